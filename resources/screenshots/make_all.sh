#!/usr/bin/env bash
# Regenerate the README screenshots with the app itself (offscreen).
set -euo pipefail
cd "$(dirname "$0")/../.."
out=resources/screenshots
digit=resources/samples/digits
shot() { QT_QPA_PLATFORM=offscreen python main.py shot "$@"; }
hero="the small cats in front of the old house do not see the big dog"
shot --preset translate --input "$hero" --query 5 -o $out/translate.png
shot --preset translate --input "$hero" --panel pipeline --query 5 --size 1900x1000 \
     -o $out/pipeline_translate.png
shot --preset vit-digits --input $digit/digit_4.png --panel pipeline --layer 3 --head 1 \
     --query 0 --size 1900x1000 -o $out/pipeline_vit.png
shot --preset swin-digits --input $digit/digit_7.png --panel pipeline --layer 1 --window 15 \
     --query 5 --size 1900x1000 -o $out/pipeline_swin.png
shot --preset reverse --input "transformer" -o $out/reverse.png
shot --preset vit-digits --input $digit/digit_4.png --layer 3 --query 27 -o $out/vit.png
shot --preset swin-digits --input $digit/digit_7.png --layer 1 --window 15 --query 5 \
     -o $out/swin.png
shot --preset translate --input "the girl does not sleep" --panel model --kind cross \
     -o $out/model_translate.png
shot --preset translate --input "the girl does not sleep" --panel heads --kind encoder_self \
     --query 2 -o $out/heads_translate.png
shot --preset translate --input "the girl does not sleep" --panel positional --kind encoder_self \
     --query 3 -o $out/positional_translate.png
shot --preset vit-digits --input $digit/digit_4.png --panel positional --query 28 \
     -o $out/positional_vit.png
shot --preset swin-digits --input $digit/digit_7.png --panel positional --layer 1 --head 1 --query 6 --key 9 \
     -o $out/positional_swin.png
shot --preset vit-digits --input $digit/digit_4.png --panel patches --layer 3 --query 27 \
     -o $out/patches_vit.png
shot --preset swin-digits --input $digit/digit_7.png --panel windows --layer 1 --window 15 \
     --query 5 -o $out/windows_swin.png
shot --preset vit-digits --input $digit/digit_4.png --panel rollout -o $out/rollout_vit.png
shot --preset swin-digits --input $digit/digit_7.png --panel rollout -o $out/rollout_swin.png
shot --preset translate --input "the small cat sees the big dog" --panel lens --size 1400x700 \
     -o $out/lens-translate.png
shot --preset induction --input "happy dog run park green tree big bird sing rain happy dog run park green tree" \
     --panel lens --size 1400x760 -o $out/lens-induction.png
shot --preset induction --input "happy dog run park green tree big bird sing rain happy dog run park green tree" \
     --layer 1 --head 1 --query 13 -o $out/induction.png
# Lecturing: the tour in English and Chinese (needs a CJK font: fonts-noto-cjk), and F5 in
# Chinese, on a projector's 1280×800 screen (Qt's offscreen platform reads its size from a file).
screen=$(mktemp --suffix=.json)
echo '{"screens": [{"name": "projector", "x": 0, "y": 0, "width": 1280, "height": 800,
       "logicalDpi": 96, "logicalBaseDpi": 96, "dpr": 1}]}' > "$screen"
QT_QPA_PLATFORM=offscreen:configfile=$screen python - <<'PY'
from explorer.api import Explorer, RunFailed

out = "resources/screenshots"
e = Explorer.open("translate", size=(1280, 800))
e.tour("en").go(3)
e.window.grab().save(f"{out}/tour_en.png")
e.tour("zh").go(23)
e.window.grab().save(f"{out}/tour_zh.png")
e.tour("zh").go(3)
e.window.toggle_presentation()  # F5: full screen, 175%, the card takes the side column
e.paint()
e.window.grab().save(f"{out}/presentation.png")
e.tour("en").go(3)
e.paint()
e.window.grab().save(f"{out}/presentation_en.png")
e.window.toggle_presentation()
e.paint()
e.window.switch_tour_language("en")
e.window.leave_tour()
e.set_preset("translate", "the small cats in front of the old house do not see the big dog")
e.wait()
# a refused input: the banner over the faded previous result
e.window.text_input.set_text_and_run(" ".join(["the cat sees the dog"] * 12))
try:
    e.wait()
except RunFailed:
    pass
e.window.grab().save(f"{out}/refused.png")
# The grammar's own translation: a sentence outside it, and a disagreement (the bottleneck)
e.set_input("the cats sleeps in the garden")
e.wait()
e.window.grab().save(f"{out}/outside.png")
e.set_input("an old woman with two lazy cats watches the birds today and the young boy does "
            "not laugh")
e.wait()
e.set_interventions(bottleneck=True)
e.wait()
e.window.grab().save(f"{out}/bottleneck.png")
e.close()
PY
# An opened model folder: a DeiT-Tiny/16 with random weights (no weights can be downloaded
# here), built and saved by transformers (the test extra), then opened like a user's folder.
QT_QPA_PLATFORM=offscreen python - <<'PY'
import json
import tempfile
from pathlib import Path

import torch
import transformers

from explorer.api import Explorer

torch.manual_seed(0)
folder = Path(tempfile.mkdtemp()) / "deit-tiny-random"
config = transformers.DeiTConfig(hidden_size=192, num_hidden_layers=12, num_attention_heads=3,
                                 intermediate_size=768, image_size=224, patch_size=16)
transformers.DeiTForImageClassificationWithTeacher(config).eval().save_pretrained(folder)
(folder / "preprocessor_config.json").write_text(json.dumps(
    {"do_resize": True, "size": {"height": 256, "width": 256}, "do_center_crop": True,
     "crop_size": {"height": 224, "width": 224}, "resample": 3, "do_normalize": True,
     "image_mean": [0.485, 0.456, 0.406], "image_std": [0.229, 0.224, 0.225]}))
e = Explorer.open("vit-digits", size=(1400, 860))
e.open_model(folder)
e.select(query=50)
e.show("patches")
e.window.grab().save("resources/screenshots/opened_deit.png")
e.close()
PY
