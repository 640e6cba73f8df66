"""LinkedIn Marketing API (versioned REST) connector: ad accounts, campaign groups/campaigns/creatives, partial
updates, ad analytics, the AdsPlatform adapter and a simulator."""
