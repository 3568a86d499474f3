"""Apache Spark: the optional second engine (`make spark-install`)."""
