"""Adversarial (GAN) losses for the discriminator (critic) and the generator."""

__all__ = []
