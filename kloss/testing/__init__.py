"""The test harness that ships with kloss: the registry of losses with their seeded cases
and edge inputs, the NumPy float64 references written from each loss's formula, and the
cross-backend comparison.

`kloss check` (`python -m kloss check`) runs it on the installed backends; kloss's own test
suite drives its generic matrix from the same registry. Not imported by `import kloss`.
"""
