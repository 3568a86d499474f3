"""Dashboards as code: the YAML specs under dashboards/, their SQL, the static preview and Metabase."""
