"""Process data over OPC UA: a twin server of simulated batches and the collector that
stores what a plant's OPC UA server publishes (see docs/opcua.md)."""
