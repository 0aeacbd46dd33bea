"""Realistic, deterministic demo data for Lugoj and Alba Iulia.

``reference`` holds the cities' departments, categories and places;
``generate`` draws incidents as DataFrames (pure, no I/O); ``load`` writes
them into PostGIS with COPY.
"""
