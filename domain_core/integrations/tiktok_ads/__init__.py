"""TikTok Marketing API (API for Business v1.3) connector: advertisers, campaigns/ad groups/ads, image uploads,
reports, the AdsPlatform adapter and a simulator."""
