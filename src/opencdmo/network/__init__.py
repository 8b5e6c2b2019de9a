"""The global site network: sites, suites, equipment, approvals and inspections."""
