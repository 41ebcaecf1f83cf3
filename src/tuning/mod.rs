//! tuning engine (see its issue).
