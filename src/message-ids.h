/* SPDX-License-Identifier: GPL-3.0-or-later */
#ifndef SJ_MESSAGE_IDS_H
#define SJ_MESSAGE_IDS_H

/* Fixed journal MESSAGE_IDs, one per kind of event; each is explained in
 * systemd/synapse-janitor.catalog. Never change a published id. */
#define MSGID_RUN_START        "6f4d2d10f1cf4ff28973298ca4290b3c"
#define MSGID_RUN_END          "0892e9e9d92147ddb4bcae3d9716bf1b"
#define MSGID_ROOM_DECISION    "240e14bc57ba457bb00b5c8c736b9983" /* recorded, would_delete, protected, kept, kept_unknown */
#define MSGID_ROOM_DELETED     "56d4d05d82a049289487aa6ea8539c17"
#define MSGID_DELETE_FAILED    "18da3657d8a840e5a563183dc821aad8"
#define MSGID_DELETE_HELD      "928e5dbe00864c91af67edf25878b060" /* deferred, capped, changed */
#define MSGID_BREAKER_TRIPPED  "d0aea1bb470048728e49e3caa7cd784f" /* refused: max_fraction or truncated listing */
#define MSGID_DELETE_STARTED   "ebcc15c79753427a92523144a5b3212c"
#define MSGID_AUTH_REFUSED     "f5f4e22a540041faac7d883f68dfb935"
#define MSGID_SERVER_ERROR     "9327efb4ba834a69a3528af27b54368b"
#define MSGID_POLICY_INVALID   "830d2dee3c3e4cfb91eff39082048d7c"
#define MSGID_POLICY_LOADED    "3b0f49f127884fb0b835bc113245fba6"
#define MSGID_STATE_CORRUPT    "91937487d2984335a9461fe07d815b58"
#define MSGID_DAEMON_STARTED   "0c38afefd6394bafb60d47a4ae839192"
#define MSGID_DAEMON_STOPPING  "eae09bb46741433baff00e2417561955"
#define MSGID_NEXT_RUN         "e78068d4de56475bb03fe4e8311407f3"
#define MSGID_CLOCK_SKEW       "7c7ed917ca384d7088203cb96c2abd1d"

#endif
