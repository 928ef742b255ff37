# SPDX-License-Identifier: GPL-3.0-or-later
# Tests and programs of this area; included from Makefile.am.
