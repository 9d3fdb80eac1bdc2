"""query-gateway/query_gateway"""
