import sys

from hfx._entry import main

sys.exit(main())
