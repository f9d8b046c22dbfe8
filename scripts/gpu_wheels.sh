#!/usr/bin/env bash
# Wheels that let the GPU machine train with on-the-fly data simulation, as the CPU does.
#
# The GPU machine (Python 3.12, x86-64, no internet) has torch, torchaudio, numpy, scipy, numba
# and tqdm, but not the audio libraries that `hifigan_edu.data` reads and simulates with. This
# downloads them, and what they need that the machine lacks, into .whl/ (about 3.5 MB), at the
# versions environment.yml pins, so the RIR cache names (they include pyroomacoustics' version)
# match. Carry `.whl` and the room caches the config uses (`data/cache/rirs-<split>-<n>-*.npz`; the
# kokoro cache there is too large to travel) to the machine and install there with
#   python3 -m pip install -q --no-index --no-deps --target /tmp/site .whl/*.whl && export PYTHONPATH=/tmp/site:.
set -euo pipefail
cd "$(dirname "$0")/.."
platforms=()
for p in manylinux_2_34 manylinux_2_31 manylinux_2_28 manylinux_2_27 manylinux_2_24 manylinux_2_17 manylinux2014 manylinux1; do
  platforms+=(--platform "${p}_x86_64")
done
python3 -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
  "${platforms[@]}" --platform any -d .whl \
  soundfile==0.14.0 cffi==2.1.1 pycparser==3.12 librosa==0.11.0 audioread==3.1.0 decorator==5.3.1 \
  pooch==1.9.0 platformdirs==4.14.8 soxr==1.1.0 pyroomacoustics==0.10.1
du -sh .whl
