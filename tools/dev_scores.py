"""Real dev scenes, per scene and seed, for groups of runs; leave-one-scene-out verdicts.

    python tools/dev_scores.py --roots ../shared/real_rgbd_dev datasets/real_dev \
        --group main "runs/main-s*" --group ssi "runs/ssi-s*" --reference main

See :mod:`densepred.app.devscores`.
"""

import sys

from densepred.app.devscores import main

if __name__ == "__main__":
    sys.exit(main())
