"""Google Ads API connector (REST transport): GAQL search, mutate, the AdsPlatform adapter and a simulator."""
