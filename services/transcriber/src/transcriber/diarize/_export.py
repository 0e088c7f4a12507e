"""Export the speaker models to torch-free files; run ONLY inside the throwaway provisioning venv.

This script is executed by ``transcriber.diarize.provision`` with a separate interpreter that has
torch (CPU) installed; the service itself never imports torch. It writes:

- ``campplus.onnx``: 3D-Speaker CAM++ (192-d embeddings from 80-d Kaldi fbank, shape B x T x 80);
- ``ge2e.npz``: the Resemblyzer GE2E LSTM weights as plain arrays;
- ``reference.npz``: each model's torch output on fixed random inputs, so the parent process can
  check that the exported files compute the same thing before it trusts them.

Usage: python _export.py CAMPPLUS_PY CAMPPLUS_PT GE2E_PT OUT_DIR
"""

from __future__ import annotations

import importlib.util
import sys
import warnings
from pathlib import Path

import numpy as np
import torch  # type: ignore[import-not-found]  # only in the throwaway venv


def _load_campplus(code: Path, weights: Path) -> torch.nn.Module:
    spec = importlib.util.spec_from_file_location("campplus_code", code)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    model = module.CAMPPlus(feat_dim=80, embedding_size=192)
    model.load_state_dict(torch.load(str(weights), map_location="cpu", weights_only=True))
    return model.eval()


def _export_campplus(model: torch.nn.Module, out: Path) -> dict[str, np.ndarray]:
    example = torch.randn(2, 148, 80)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            model,
            (example,),
            str(out / "campplus.onnx"),
            input_names=["feats"],
            output_names=["embedding"],
            dynamic_axes={"feats": {0: "batch", 1: "frames"}, "embedding": {0: "batch"}},
            opset_version=17,
            dynamo=False,
        )
    gen = torch.Generator().manual_seed(7)
    refs: dict[str, np.ndarray] = {}
    for frames in (148, 301):
        x = torch.randn(3, frames, 80, generator=gen)
        with torch.no_grad():
            refs[f"campplus_in_{frames}"] = x.numpy()
            refs[f"campplus_out_{frames}"] = model(x).numpy()
    return refs


def _export_ge2e(weights: Path, out: Path) -> dict[str, np.ndarray]:
    state = torch.load(str(weights), map_location="cpu", weights_only=False)["model_state"]
    arrays = {
        k.replace(".", "_"): v.float().numpy()
        for k, v in state.items()
        if "lstm" in k or "linear" in k
    }
    np.savez(out / "ge2e.npz", **arrays)
    lstm = torch.nn.LSTM(40, 256, 3, batch_first=True)
    linear = torch.nn.Linear(256, 256)
    lstm.load_state_dict({k[5:]: v for k, v in state.items() if k.startswith("lstm.")})
    linear.load_state_dict({k[7:]: v for k, v in state.items() if k.startswith("linear.")})
    x = torch.rand(2, 160, 40, generator=torch.Generator().manual_seed(7))
    with torch.no_grad():
        _, (hidden, _) = lstm(x)
        raw = torch.relu(linear(hidden[-1]))
        emb = raw / torch.norm(raw, dim=1, keepdim=True)
    return {"ge2e_in": x.numpy(), "ge2e_out": emb.numpy()}


def main() -> None:
    code, campplus_pt, ge2e_pt, out = (Path(a) for a in sys.argv[1:5])
    torch.set_num_threads(2)
    refs = _export_campplus(_load_campplus(code, campplus_pt), out)
    refs.update(_export_ge2e(ge2e_pt, out))
    np.savez(out / "reference.npz", **refs)  # type: ignore[arg-type]


if __name__ == "__main__":
    main()
