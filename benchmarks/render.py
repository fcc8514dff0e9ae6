"""Benchmark the 3D scene: build the phase-3 scene and move it through 100 time steps, off-screen.

Prints seconds per update (arrays and matrices moved in place) and per rendered frame (update plus
render), and the process's peak memory. Targets (issue 6): under 50 ms per update for 10,000
satellites, under 2 GB.

    .venv/bin/python benchmarks/render.py [--steps 100] [--size 1280x720]
"""

from __future__ import annotations

import argparse
import resource
import time

import numpy as np

import twin
from viz import ConstellationScene


def peak_rss_gib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20  # Linux: KiB


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--size", default="1280x720", help="image size, WIDTHxHEIGHT")
    parser.add_argument("--color-by", default="illumination")
    args = parser.parse_args()
    width, height = (int(value) for value in args.size.split("x"))

    started = time.perf_counter()
    run = twin.run_scenario(twin.load_scenario("phase3"), duration_s=args.steps * 60.0, step_s=60.0, subsystems=False)
    simulated = time.perf_counter() - started
    started = time.perf_counter()
    scene = ConstellationScene(run, color_by=args.color_by, scenario=twin.load_scenario("phase3"),
                               window_size=(width, height))
    scene.render()
    built = time.perf_counter() - started
    print(f"scene: {run.sizes['sat']} satellites, {scene.track_rows.size} orbit tracks, {args.color_by}, "
          f"{width}x{height} off-screen ({type(scene.plotter.render_window).__name__}); "
          f"orbits {simulated:.1f} s, scene built and first frame {built:.2f} s")

    steps = np.arange(1, args.steps + 1) % run.sizes["time"]
    updates, frames, images = [], [], []
    for index in steps:
        started = time.perf_counter()
        scene.update(int(index))
        updated = time.perf_counter()
        scene.render()
        scene.plotter.render_window.WaitForCompletion()
        rendered = time.perf_counter()
        scene.plotter.screenshot(None, return_img=True)  # read the frame back, as a GIF or MP4 writer does
        read = time.perf_counter()
        updates.append(updated - started)
        frames.append(rendered - started)
        images.append(read - started)

    def line(label: str, seconds: list[float]) -> str:
        seconds = np.array(seconds)
        return (f"{label}: {seconds.mean():.4f} s per update mean, {np.percentile(seconds, 95):.4f} s p95 "
                f"over {len(steps)} steps")

    print(line("update (points, colours, tracks, Earth, Sun; in place)", updates) + " (target < 0.050 s)")
    print(line("update + render", frames) + f" ({1 / np.mean(frames):.1f} frames/s)")
    print(line("update + render + read back the image", images))
    print(f"process peak RSS: {peak_rss_gib():.2f} GiB (target < 2)")
    scene.close()


if __name__ == "__main__":
    main()
