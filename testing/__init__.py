"""Test helpers (API clients, factories, known ledger sequences, query budgets). Only tests import
this package; an import contract keeps it out of the code they test."""
