/* SPDX-License-Identifier: GPL-3.0-or-later */
#ifndef SJ_SCAN_H
#define SJ_SCAN_H
#endif
