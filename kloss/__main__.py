"""`python -m kloss check`: see `kloss._cli`."""

import sys

from kloss._cli import main

if __name__ == "__main__":
    sys.exit(main())
