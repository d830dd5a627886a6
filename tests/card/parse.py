"""Reads a model card section written by `custody card` with
huggingface_hub's ModelCard, and a `custody card --mof` file with PyYAML;
prints what they make of them, as JSON."""

import json
import sys

import yaml
from huggingface_hub import ModelCard, ModelCardData

card = ModelCard(open(sys.argv[1], encoding="utf-8").read())
assert isinstance(card.data, ModelCardData)
mof = yaml.safe_load(open(sys.argv[2], encoding="utf-8"))
print(json.dumps({"data": card.data.to_dict(), "text": card.text, "mof": mof}))
