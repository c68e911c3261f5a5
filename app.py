"""Start the newsrag web chat: `python app.py [--host H] [--port P] [--share] [--home DIR]`, the same as
`newsrag serve` (rag/frontends/serve.py)."""

import sys

from rag.frontends.serve import main

__all__ = ["main"]

if __name__ == "__main__":
    sys.exit(main())
