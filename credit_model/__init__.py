"""credit_model"""
