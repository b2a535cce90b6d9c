/* ml_ext--1.0--1.1.sql: built by the Makefile from the parts in upgrade/1.0--1.1 */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION ml_ext UPDATE TO '1.1'" to load this file. \quit
