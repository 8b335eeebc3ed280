"""What a depth checkpoint reads depth from: edited inputs and cue correlations per real scene.

    python tools/depth_cues.py runs/depth_mbv3_unet/checkpoints/best.ckpt \
        --roots ../shared/real_rgbd_dev --synthetic 24 --out cues.json

See :mod:`densepred.app.cues`.
"""

import sys

from densepred.app.cues import main

if __name__ == "__main__":
    sys.exit(main())
