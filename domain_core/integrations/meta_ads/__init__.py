"""Meta Marketing API (Graph) connector: ad accounts, campaigns/ad sets/ads, insights, the AdsPlatform adapter and a
simulator."""
