-- docker-compose only: the schema registry's own database (the native stack's registry component
-- creates the same role and database before it starts Apicurio).
CREATE ROLE registry LOGIN PASSWORD 'registry';
CREATE DATABASE registry OWNER registry;
