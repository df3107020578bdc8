"""Cleaning: raw tables and their layouts become the canonical tables plus a ledger.

:mod:`~salesinsight.clean.deals`, :mod:`~salesinsight.clean.activities` and
:mod:`~salesinsight.clean.accounts` clean one table each, composing small steps that return
their columns and their ledger rows: row ids and duplicates (:mod:`~salesinsight.clean.ids`),
dates (:mod:`~salesinsight.clean.dates`), money (:mod:`~salesinsight.clean.money`), labels
mapped onto fixed vocabularies (:mod:`~salesinsight.clean.categories`), all read from text by
the vectorised parsers of :mod:`~salesinsight.clean.parse`. :mod:`~salesinsight.clean.ledger`
builds the ledger rows, and :mod:`~salesinsight.clean.options` holds what the cleaners share
(their options, their result, their column names).

Rules, in the order they apply to a deals table (each dropped row and changed value becomes a
ledger row whose ``reason`` says why):

1. Rows removed while reading (blank rows, report footers, ``Total``/``Subtotal`` rows).
2. Test records (``TEST`` as a word or ``DO NOT USE`` in the deal or account name) are dropped.
3. Rows a CRM marks as deleted (Pipedrive's ``deleted`` status) are dropped.
4. Exact duplicates (every cell equal) are dropped, naming the row they repeat; then later rows
   repeating a vendor deal id are dropped, naming the first row with that id.
5. ``deal_id`` is the vendor id; where the export has none it is ``"deal-"`` followed by the 16 hex
   digits of a 64-bit hash of the row's cells as exported: the cells joined in the file's column
   order with U+001F between them, hashed with SipHash-2-4 under pandas' fixed key
   (:func:`pandas.util.hash_array`). Reading the same file again gives the same ids.
6. ``status``: a status column decides where it has a value (Pipedrive, Dynamics); else ``IsWon`` /
   ``IsClosed``-style flags; else the stage (vendor defaults, ``stages=``, and names containing
   ``won`` / ``lost``). Stages recognised by none of these count as open, with a warning.
7. Dates: one day/month order for the whole file (``dayfirst=`` forces it). A won or lost deal's
   close date becomes ``closed_at``; an open deal's becomes ``expected_close_at`` and never
   ``closed_at``. A deal created after it closed keeps its row, but ``created_at`` is set missing
   (the creation date is an import date) with a ledger row. Dates before 1980 or after 2099 are
   placeholders (Excel's day zero ``1/0/1900``, "never" dates such as ``12/31/2100``) and are
   set missing with a ledger row.
8. Money: ``amount_original`` in the deal's currency (currency column, else the symbol or code in
   the cell, else the reporting currency); ``amount = amount_original * fx[currency]``. A currency
   without a rate leaves ``amount`` missing with a ledger row; so does a negative amount, and
   an amount of 10^12 or more (a typing or unit error, not a deal).
9. ``account_id``: the vendor's account id, else the account name case-folded with accents,
   punctuation, spaces and legal suffixes (Inc, LLC, GmbH, ...) removed, so ``GTX Pro`` and
   ``GTXPro, Inc.`` share an id.

Ids that Excel turned into scientific notation (``6.00E+13``, ``1.23457E+17``) have lost their
digits and would merge different records: a deal or activity id in Excel's shape, or one that
merely reads as such a number (``6E13``) and repeats another row's, is replaced by a derived one
(rule 5); a vendor account id in Excel's shape by the id derived from the account name; each with
a ledger ``fixed`` row. A distinct record id such as ``006E0000000000`` is kept as it is.
"""
