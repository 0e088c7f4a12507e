"""faster-whisper called directly on a file, with the transcriber's default options:
the baseline the pipeline's overhead is measured against.

    python -m bench.whisper_direct MODEL_DIR AUDIO [THREADS]   # prints JSON timings
"""

from __future__ import annotations

import json
import sys
import time


def main() -> None:
    """Load the model, transcribe once, print load and transcription seconds."""
    from faster_whisper import WhisperModel

    model_dir, audio = sys.argv[1], sys.argv[2]
    threads = int(sys.argv[3]) if len(sys.argv) > 3 else 0
    t0 = time.perf_counter()
    model = WhisperModel(model_dir, device="cpu", compute_type="int8", cpu_threads=threads)
    t1 = time.perf_counter()
    segments, info = model.transcribe(audio, beam_size=5, vad_filter=True, word_timestamps=True)
    words = sum(len(s.words or []) for s in segments)
    t2 = time.perf_counter()
    out = {"load_s": t1 - t0, "transcribe_s": t2 - t1, "words": words, "duration": info.duration}
    sys.stdout.write(json.dumps(out) + "\n")


if __name__ == "__main__":
    main()
