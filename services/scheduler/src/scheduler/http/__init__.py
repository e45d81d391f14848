"""HTTP adapters: campaign-api's REST contract."""
