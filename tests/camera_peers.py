"""Real peers for the camera tests, made at test time: a RealSense recording written by
pyrealsense2's own software device and recorder (the same file format a D435 recording has),
and an MJPEG-over-HTTP stream served on 127.0.0.1 from a free port (stdlib http.server in a
thread, stopped and joined), as network cameras serve them."""

from __future__ import annotations

import math
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np


def gradient(index: int, width: int, height: int) -> np.ndarray:
    """Frame `index`: red encodes the frame number, green a horizontal ramp (orientation)."""
    image = np.zeros((height, width, 3), np.uint8)
    image[..., 0] = (index * 16) % 256
    image[..., 1] = np.linspace(0, 255, width, dtype=np.uint8)[None, :]
    return image


def record_realsense(path: Path, width: int, height: int, fovy_deg: float, frames: int = 12,
                     fps: int = 30, image=gradient) -> Path:
    """A colour-only recording of `frames` frames with the intrinsics of a camera whose
    vertical field of view is `fovy_deg`, timestamps 1/fps apart. The frames are fed at `fps`
    (frames / fps seconds): playback paces itself by when frames reached the recorder.
    `image(index, width, height)` draws frame `index` (RGB)."""
    import pyrealsense2 as rs

    device = rs.software_device()
    sensor = device.add_sensor("Color")
    intrinsics = rs.intrinsics()
    intrinsics.width, intrinsics.height = width, height
    intrinsics.fy = intrinsics.fx = height / 2 / math.tan(math.radians(fovy_deg) / 2)
    intrinsics.ppx, intrinsics.ppy = width / 2, height / 2
    intrinsics.model, intrinsics.coeffs = rs.distortion.none, [0.0] * 5
    stream = rs.video_stream()
    stream.type, stream.index, stream.uid = rs.stream.color, 0, 1
    stream.width, stream.height, stream.fps, stream.bpp = width, height, fps, 3
    stream.fmt, stream.intrinsics = rs.format.rgb8, intrinsics
    profile = sensor.add_video_stream(stream).as_video_stream_profile()
    recorder = rs.recorder(str(path), device)
    recording = recorder.query_sensors()[0]
    recording.open(recording.get_stream_profiles()[0])
    recording.start(lambda frame: None)
    started = time.monotonic()
    for index in range(frames):
        time.sleep(max(0.0, started + index / fps - time.monotonic()))
        frame = rs.software_video_frame()
        frame.pixels = image(index, width, height)
        frame.bpp, frame.stride = 3, width * 3
        frame.timestamp = index * 1000.0 / fps
        frame.domain = rs.timestamp_domain.hardware_clock
        frame.frame_number = index
        frame.profile = profile
        sensor.on_video_frame(frame)
    recording.stop()
    recording.close()
    del recording, recorder  # the recorder writes its file when released
    return path


class MjpegServer:
    """multipart/x-mixed-replace JPEG frames at `fps` on http://127.0.0.1:<free port>/stream.mjpg."""

    def __init__(self, width: int = 64, height: int = 48, fps: int = 30) -> None:
        import cv2

        stopping = threading.Event()
        self.stopping, self.frames_sent = stopping, 0
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:  # quiet test output
                pass

            def do_GET(self) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "multipart/x-mixed-replace; boundary=frame")
                self.end_headers()
                index, started = 0, time.monotonic()
                while not stopping.is_set():
                    _, jpeg = cv2.imencode(".jpg", gradient(index, width, height)[..., ::-1])
                    part = (b"--frame\r\nContent-Type: image/jpeg\r\nContent-Length: %d\r\n\r\n"
                            % len(jpeg)) + jpeg.tobytes() + b"\r\n"
                    try:
                        self.wfile.write(part)
                    except (BrokenPipeError, ConnectionResetError):
                        return
                    index += 1
                    server.frames_sent += 1
                    stopping.wait(max(0.0, started + index / fps - time.monotonic()))

        self.http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.http.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.http.server_address[1]}/stream.mjpg"
        self.thread = threading.Thread(target=self.http.serve_forever, name="mjpeg", daemon=True)

    def __enter__(self) -> MjpegServer:
        self.thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop()

    def stop(self) -> None:
        """Stop streaming to clients, then the server, and join its thread."""
        self.stopping.set()
        self.http.shutdown()
        self.http.server_close()
        self.thread.join(timeout=5)
