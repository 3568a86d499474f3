-- Metabase's application database lives beside the warehouse, on the same server.
create database metabase_app owner queijaria;
