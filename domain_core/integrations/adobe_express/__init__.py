"""Adobe Express connector, spoken through Adobe Firefly Services (Firefly API v3, §13): image generation jobs and
their files, the IMS server-to-server token, and a simulator."""
