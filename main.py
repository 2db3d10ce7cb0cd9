"""`python main.py` in a checkout: the command line lives in explorer/cli.py."""
from explorer.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
