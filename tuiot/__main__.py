import sys

from tuiot.cli import main

sys.exit(main())
