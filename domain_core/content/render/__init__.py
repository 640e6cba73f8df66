"""Offline creative rendering: PNG images (Pillow) and H.264 MP4 video (imageio-ffmpeg)."""
