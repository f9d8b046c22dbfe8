"""Shared pytest set-up: tests run in the ci profile on the CPU, with fixed seeds."""

import os

os.environ.setdefault("HIFIGAN_EDU_PROFILE", "ci")
