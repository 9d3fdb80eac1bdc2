"""dexin"""
