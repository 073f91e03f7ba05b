//! Realistic, deterministic demo data (issue: demo data). Not written yet.
