"""authorize() as a table: every principal x resource x action, each answer spelled out.

Cast (accounts A = "root" and B = "other"):
  root, admin2   admins of A
  owner          member of A, owns the user-owned bucket ``owned``
  reader         member of A, grant (owned, "", read)
  prefixrw       member of A, grant (contract, "docs/", read-write)
  stranger       member of B, no grants
  other_admin    admin of B
  guest          member of B, grant (owned, "", read-write): cross-account sharing
  sharer         member of A, grants (owned, "shared/", read, share) and (owned, "", read-write)
  disabled_owner the owner, disabled
  anonymous      no user
  X+link         X acting through a link it signed (presigned URL, minted link, POST policy)

The reader also has (open, "", read) without share.

Buckets: ``owned`` (A, owned by ``owner``), ``contract`` (A, contract-owned), ``public`` (B,
contract-owned, public-read), ``open`` (A, contract-owned, sharing "any": AWS's rule). A resource
``bucket:key`` carries the key (or listing prefix); ``svc`` is the service level (no bucket);
``@user`` names the subject user of an oversight action (``owned@stranger``: bucket and subject).
CB (create-bucket) is decided on the bucket to be made, as if it were the one named.
TK (tempurl-key-admin) is a container's TempURL keys here; account keys are tested in test_tempurlkeys.py.
"""

from __future__ import annotations

import dataclasses

import pytest

from satchel.core.access import Action, Resource, authorize, lists_some_prefix, visible_buckets
from satchel.core.models import ANONYMOUS, Bucket, Grant, Permission, Principal, Role, Sharing, Status, User

ACCOUNT_A = "acct-a"
ACCOUNT_B = "acct-b"


def _user(uid: str, account: str, role: Role, status: Status = Status.ACTIVE) -> User:
    return User(id=uid, account_id=account, name=uid, role=role, status=status, created=0.0)


def _grant(uid: str, bucket: str, prefix: str, permission: Permission, share: bool = False) -> Grant:
    return Grant(id=f"g-{uid}-{bucket}-{prefix}", user_id=uid, bucket=bucket, prefix=prefix,
                 permission=permission, created=0.0, share=share)


BUCKETS = {
    "owned": Bucket(name="owned", account_id=ACCOUNT_A, owner_user_id="owner", created=0.0),
    "contract": Bucket(name="contract", account_id=ACCOUNT_A, owner_user_id=None, created=0.0),
    "public": Bucket(name="public", account_id=ACCOUNT_B, owner_user_id=None, created=0.0,
                     public_read=True),
    "open": Bucket(name="open", account_id=ACCOUNT_A, owner_user_id=None, created=0.0, sharing=Sharing.ANY),
}

OWNER = _user("owner", ACCOUNT_A, Role.MEMBER)
PRINCIPALS = {
    "root": Principal(_user("root", ACCOUNT_A, Role.ADMIN)),
    "admin2": Principal(_user("admin2", ACCOUNT_A, Role.ADMIN)),
    "owner": Principal(OWNER),
    "reader": Principal(_user("reader", ACCOUNT_A, Role.MEMBER),
                        grants=(_grant("reader", "owned", "", Permission.READ),
                                _grant("reader", "open", "", Permission.READ))),
    "prefixrw": Principal(_user("prefixrw", ACCOUNT_A, Role.MEMBER),
                          grants=(_grant("prefixrw", "contract", "docs/", Permission.READ_WRITE),)),
    "stranger": Principal(_user("stranger", ACCOUNT_B, Role.MEMBER)),
    "other_admin": Principal(_user("other_admin", ACCOUNT_B, Role.ADMIN)),
    "guest": Principal(_user("guest", ACCOUNT_B, Role.MEMBER),
                       grants=(_grant("guest", "owned", "", Permission.READ_WRITE),)),
    "sharer": Principal(_user("sharer", ACCOUNT_A, Role.MEMBER),
                        grants=(_grant("sharer", "owned", "shared/", Permission.READ, share=True),
                                _grant("sharer", "owned", "", Permission.READ_WRITE))),
    "disabled_owner": Principal(dataclasses.replace(OWNER, status=Status.DISABLED)),
    "anonymous": ANONYMOUS,
}
PRINCIPALS.update({f"{name}+link": PRINCIPALS[name].through_link()
                   for name in ("root", "owner", "reader", "sharer", "prefixrw", "guest", "anonymous")})
SUBJECTS = {name: PRINCIPALS[name].user for name in ("owner", "stranger", "reader")}

COLUMNS = (Action.LIST_BUCKETS, Action.CREATE_BUCKET, Action.BUCKET_READ, Action.BUCKET_ADMIN,
           Action.OBJECT_READ, Action.OBJECT_WRITE, Action.LINK_ADMIN, Action.REVOCATION_ADMIN, Action.AUDIT_READ,
           Action.TEMPURL_KEY_ADMIN, Action.KEY_ADMIN, Action.USER_ADMIN)
HEADER = ["LB", "CB", "BR", "BA", "OR", "OW", "LA", "RA", "AR", "TK", "KA", "UA"]

# Y = allowed, - = denied.
TABLE = """
principal       resource              LB  CB  BR  BA  OR  OW  LA  RA  AR  TK  KA  UA
root            svc                   Y  -  -  -  -  -  -  -  -  -  -  -
root            owned                 Y  Y  Y  Y  Y  Y  Y  Y  Y  Y  -  -
root            owned:docs/a.txt      Y  Y  Y  Y  Y  Y  Y  Y  Y  Y  -  -
root            owned:shared/x        Y  Y  Y  Y  Y  Y  Y  Y  Y  Y  -  -
root            contract              Y  Y  Y  Y  Y  Y  Y  Y  Y  Y  -  -
root            contract:docs/a.txt   Y  Y  Y  Y  Y  Y  Y  Y  Y  Y  -  -
root            contract:doc          Y  Y  Y  Y  Y  Y  Y  Y  Y  Y  -  -
root            contract:img/b.png    Y  Y  Y  Y  Y  Y  Y  Y  Y  Y  -  -
root            public                Y  -  Y  -  Y  -  -  -  -  -  -  -
root            public:x.txt          Y  -  Y  -  Y  -  -  -  -  -  -  -
root            open                  Y  Y  Y  Y  Y  Y  Y  Y  Y  Y  -  -
root            open:docs/a.txt       Y  Y  Y  Y  Y  Y  Y  Y  Y  Y  -  -
root            @owner                Y  -  -  -  -  -  Y  Y  Y  -  Y  Y
root            @stranger             Y  -  -  -  -  -  -  -  -  -  -  -
root            owned@stranger        Y  Y  Y  Y  Y  Y  Y  Y  Y  Y  -  -
admin2          svc                   Y  -  -  -  -  -  -  -  -  -  -  -
admin2          owned                 Y  Y  Y  Y  Y  Y  Y  Y  Y  Y  -  -
admin2          owned:docs/a.txt      Y  Y  Y  Y  Y  Y  Y  Y  Y  Y  -  -
admin2          owned:shared/x        Y  Y  Y  Y  Y  Y  Y  Y  Y  Y  -  -
admin2          contract              Y  Y  Y  Y  Y  Y  Y  Y  Y  Y  -  -
admin2          contract:docs/a.txt   Y  Y  Y  Y  Y  Y  Y  Y  Y  Y  -  -
admin2          contract:doc          Y  Y  Y  Y  Y  Y  Y  Y  Y  Y  -  -
admin2          contract:img/b.png    Y  Y  Y  Y  Y  Y  Y  Y  Y  Y  -  -
admin2          public                Y  -  Y  -  Y  -  -  -  -  -  -  -
admin2          public:x.txt          Y  -  Y  -  Y  -  -  -  -  -  -  -
admin2          open                  Y  Y  Y  Y  Y  Y  Y  Y  Y  Y  -  -
admin2          open:docs/a.txt       Y  Y  Y  Y  Y  Y  Y  Y  Y  Y  -  -
admin2          @owner                Y  -  -  -  -  -  Y  Y  Y  -  Y  Y
admin2          @stranger             Y  -  -  -  -  -  -  -  -  -  -  -
admin2          owned@stranger        Y  Y  Y  Y  Y  Y  Y  Y  Y  Y  -  -
owner           svc                   Y  -  -  -  -  -  -  -  -  -  -  -
owner           owned                 Y  Y  Y  Y  Y  Y  Y  Y  Y  Y  -  -
owner           owned:docs/a.txt      Y  Y  Y  Y  Y  Y  Y  Y  Y  Y  -  -
owner           owned:shared/x        Y  Y  Y  Y  Y  Y  Y  Y  Y  Y  -  -
owner           contract              Y  -  -  -  -  -  -  -  -  -  -  -
owner           contract:docs/a.txt   Y  -  -  -  -  -  -  -  -  -  -  -
owner           contract:doc          Y  -  -  -  -  -  -  -  -  -  -  -
owner           contract:img/b.png    Y  -  -  -  -  -  -  -  -  -  -  -
owner           public                Y  -  Y  -  Y  -  -  -  -  -  -  -
owner           public:x.txt          Y  -  Y  -  Y  -  -  -  -  -  -  -
owner           open                  Y  -  -  -  -  -  -  -  -  -  -  -
owner           open:docs/a.txt       Y  -  -  -  -  -  -  -  -  -  -  -
owner           @owner                Y  -  -  -  -  -  Y  Y  Y  -  Y  -
owner           @stranger             Y  -  -  -  -  -  -  -  -  -  -  -
owner           owned@stranger        Y  Y  Y  Y  Y  Y  Y  Y  Y  Y  -  -
reader          svc                   Y  -  -  -  -  -  -  -  -  -  -  -
reader          owned                 Y  -  Y  -  Y  -  -  -  -  -  -  -
reader          owned:docs/a.txt      Y  -  Y  -  Y  -  -  -  -  -  -  -
reader          owned:shared/x        Y  -  Y  -  Y  -  -  -  -  -  -  -
reader          contract              Y  -  -  -  -  -  -  -  -  -  -  -
reader          contract:docs/a.txt   Y  -  -  -  -  -  -  -  -  -  -  -
reader          contract:doc          Y  -  -  -  -  -  -  -  -  -  -  -
reader          contract:img/b.png    Y  -  -  -  -  -  -  -  -  -  -  -
reader          public                Y  -  Y  -  Y  -  -  -  -  -  -  -
reader          public:x.txt          Y  -  Y  -  Y  -  -  -  -  -  -  -
reader          open                  Y  -  Y  -  Y  -  -  -  -  -  -  -
reader          open:docs/a.txt       Y  -  Y  -  Y  -  -  -  -  -  -  -
reader          @owner                Y  -  -  -  -  -  -  -  -  -  -  -
reader          @stranger             Y  -  -  -  -  -  -  -  -  -  -  -
reader          owned@stranger        Y  -  Y  -  Y  -  -  -  -  -  -  -
prefixrw        svc                   Y  -  -  -  -  -  -  -  -  -  -  -
prefixrw        owned                 Y  -  -  -  -  -  -  -  -  -  -  -
prefixrw        owned:docs/a.txt      Y  -  -  -  -  -  -  -  -  -  -  -
prefixrw        owned:shared/x        Y  -  -  -  -  -  -  -  -  -  -  -
prefixrw        contract              Y  -  -  -  -  -  -  -  -  -  -  -
prefixrw        contract:docs/a.txt   Y  -  Y  -  Y  Y  -  -  -  -  -  -
prefixrw        contract:doc          Y  -  -  -  -  -  -  -  -  -  -  -
prefixrw        contract:img/b.png    Y  -  -  -  -  -  -  -  -  -  -  -
prefixrw        public                Y  -  Y  -  Y  -  -  -  -  -  -  -
prefixrw        public:x.txt          Y  -  Y  -  Y  -  -  -  -  -  -  -
prefixrw        open                  Y  -  -  -  -  -  -  -  -  -  -  -
prefixrw        open:docs/a.txt       Y  -  -  -  -  -  -  -  -  -  -  -
prefixrw        @owner                Y  -  -  -  -  -  -  -  -  -  -  -
prefixrw        @stranger             Y  -  -  -  -  -  -  -  -  -  -  -
prefixrw        owned@stranger        Y  -  -  -  -  -  -  -  -  -  -  -
stranger        svc                   Y  -  -  -  -  -  -  -  -  -  -  -
stranger        owned                 Y  -  -  -  -  -  -  -  -  -  -  -
stranger        owned:docs/a.txt      Y  -  -  -  -  -  -  -  -  -  -  -
stranger        owned:shared/x        Y  -  -  -  -  -  -  -  -  -  -  -
stranger        contract              Y  -  -  -  -  -  -  -  -  -  -  -
stranger        contract:docs/a.txt   Y  -  -  -  -  -  -  -  -  -  -  -
stranger        contract:doc          Y  -  -  -  -  -  -  -  -  -  -  -
stranger        contract:img/b.png    Y  -  -  -  -  -  -  -  -  -  -  -
stranger        public                Y  -  Y  -  Y  -  -  -  -  -  -  -
stranger        public:x.txt          Y  -  Y  -  Y  -  -  -  -  -  -  -
stranger        open                  Y  -  -  -  -  -  -  -  -  -  -  -
stranger        open:docs/a.txt       Y  -  -  -  -  -  -  -  -  -  -  -
stranger        @owner                Y  -  -  -  -  -  -  -  -  -  -  -
stranger        @stranger             Y  -  -  -  -  -  Y  Y  Y  -  Y  -
stranger        owned@stranger        Y  -  -  -  -  -  Y  Y  Y  -  Y  -
other_admin     svc                   Y  -  -  -  -  -  -  -  -  -  -  -
other_admin     owned                 Y  -  -  -  -  -  -  -  -  -  -  -
other_admin     owned:docs/a.txt      Y  -  -  -  -  -  -  -  -  -  -  -
other_admin     owned:shared/x        Y  -  -  -  -  -  -  -  -  -  -  -
other_admin     contract              Y  -  -  -  -  -  -  -  -  -  -  -
other_admin     contract:docs/a.txt   Y  -  -  -  -  -  -  -  -  -  -  -
other_admin     contract:doc          Y  -  -  -  -  -  -  -  -  -  -  -
other_admin     contract:img/b.png    Y  -  -  -  -  -  -  -  -  -  -  -
other_admin     public                Y  Y  Y  Y  Y  Y  Y  Y  Y  Y  -  -
other_admin     public:x.txt          Y  Y  Y  Y  Y  Y  Y  Y  Y  Y  -  -
other_admin     open                  Y  -  -  -  -  -  -  -  -  -  -  -
other_admin     open:docs/a.txt       Y  -  -  -  -  -  -  -  -  -  -  -
other_admin     @owner                Y  -  -  -  -  -  -  -  -  -  -  -
other_admin     @stranger             Y  -  -  -  -  -  Y  Y  Y  -  Y  Y
other_admin     owned@stranger        Y  -  -  -  -  -  Y  Y  Y  -  Y  Y
guest           svc                   Y  -  -  -  -  -  -  -  -  -  -  -
guest           owned                 Y  -  Y  -  Y  Y  -  -  -  -  -  -
guest           owned:docs/a.txt      Y  -  Y  -  Y  Y  -  -  -  -  -  -
guest           owned:shared/x        Y  -  Y  -  Y  Y  -  -  -  -  -  -
guest           contract              Y  -  -  -  -  -  -  -  -  -  -  -
guest           contract:docs/a.txt   Y  -  -  -  -  -  -  -  -  -  -  -
guest           contract:doc          Y  -  -  -  -  -  -  -  -  -  -  -
guest           contract:img/b.png    Y  -  -  -  -  -  -  -  -  -  -  -
guest           public                Y  -  Y  -  Y  -  -  -  -  -  -  -
guest           public:x.txt          Y  -  Y  -  Y  -  -  -  -  -  -  -
guest           open                  Y  -  -  -  -  -  -  -  -  -  -  -
guest           open:docs/a.txt       Y  -  -  -  -  -  -  -  -  -  -  -
guest           @owner                Y  -  -  -  -  -  -  -  -  -  -  -
guest           @stranger             Y  -  -  -  -  -  -  -  -  -  -  -
guest           owned@stranger        Y  -  Y  -  Y  Y  -  -  -  -  -  -
sharer          svc                   Y  -  -  -  -  -  -  -  -  -  -  -
sharer          owned                 Y  -  Y  -  Y  Y  -  -  -  -  -  -
sharer          owned:docs/a.txt      Y  -  Y  -  Y  Y  -  -  -  -  -  -
sharer          owned:shared/x        Y  -  Y  -  Y  Y  -  -  -  -  -  -
sharer          contract              Y  -  -  -  -  -  -  -  -  -  -  -
sharer          contract:docs/a.txt   Y  -  -  -  -  -  -  -  -  -  -  -
sharer          contract:doc          Y  -  -  -  -  -  -  -  -  -  -  -
sharer          contract:img/b.png    Y  -  -  -  -  -  -  -  -  -  -  -
sharer          public                Y  -  Y  -  Y  -  -  -  -  -  -  -
sharer          public:x.txt          Y  -  Y  -  Y  -  -  -  -  -  -  -
sharer          open                  Y  -  -  -  -  -  -  -  -  -  -  -
sharer          open:docs/a.txt       Y  -  -  -  -  -  -  -  -  -  -  -
sharer          @owner                Y  -  -  -  -  -  -  -  -  -  -  -
sharer          @stranger             Y  -  -  -  -  -  -  -  -  -  -  -
sharer          owned@stranger        Y  -  Y  -  Y  Y  -  -  -  -  -  -
disabled_owner  svc                   -  -  -  -  -  -  -  -  -  -  -  -
disabled_owner  owned                 -  -  -  -  -  -  -  -  -  -  -  -
disabled_owner  owned:docs/a.txt      -  -  -  -  -  -  -  -  -  -  -  -
disabled_owner  owned:shared/x        -  -  -  -  -  -  -  -  -  -  -  -
disabled_owner  contract              -  -  -  -  -  -  -  -  -  -  -  -
disabled_owner  contract:docs/a.txt   -  -  -  -  -  -  -  -  -  -  -  -
disabled_owner  contract:doc          -  -  -  -  -  -  -  -  -  -  -  -
disabled_owner  contract:img/b.png    -  -  -  -  -  -  -  -  -  -  -  -
disabled_owner  public                -  -  -  -  -  -  -  -  -  -  -  -
disabled_owner  public:x.txt          -  -  -  -  -  -  -  -  -  -  -  -
disabled_owner  open                  -  -  -  -  -  -  -  -  -  -  -  -
disabled_owner  open:docs/a.txt       -  -  -  -  -  -  -  -  -  -  -  -
disabled_owner  @owner                -  -  -  -  -  -  -  -  -  -  -  -
disabled_owner  @stranger             -  -  -  -  -  -  -  -  -  -  -  -
disabled_owner  owned@stranger        -  -  -  -  -  -  -  -  -  -  -  -
anonymous       svc                   -  -  -  -  -  -  -  -  -  -  -  -
anonymous       owned                 -  -  -  -  -  -  -  -  -  -  -  -
anonymous       owned:docs/a.txt      -  -  -  -  -  -  -  -  -  -  -  -
anonymous       owned:shared/x        -  -  -  -  -  -  -  -  -  -  -  -
anonymous       contract              -  -  -  -  -  -  -  -  -  -  -  -
anonymous       contract:docs/a.txt   -  -  -  -  -  -  -  -  -  -  -  -
anonymous       contract:doc          -  -  -  -  -  -  -  -  -  -  -  -
anonymous       contract:img/b.png    -  -  -  -  -  -  -  -  -  -  -  -
anonymous       public                -  -  Y  -  Y  -  -  -  -  -  -  -
anonymous       public:x.txt          -  -  Y  -  Y  -  -  -  -  -  -  -
anonymous       open                  -  -  -  -  -  -  -  -  -  -  -  -
anonymous       open:docs/a.txt       -  -  -  -  -  -  -  -  -  -  -  -
anonymous       @owner                -  -  -  -  -  -  -  -  -  -  -  -
anonymous       @stranger             -  -  -  -  -  -  -  -  -  -  -  -
anonymous       owned@stranger        -  -  -  -  -  -  -  -  -  -  -  -
root+link       svc                   Y  -  -  -  -  -  -  -  -  -  -  -
root+link       owned                 Y  Y  Y  Y  Y  Y  -  -  -  -  -  -
root+link       owned:docs/a.txt      Y  Y  Y  Y  Y  Y  -  -  -  -  -  -
root+link       owned:shared/x        Y  Y  Y  Y  Y  Y  -  -  -  -  -  -
root+link       contract              Y  Y  Y  Y  Y  Y  -  -  -  -  -  -
root+link       contract:docs/a.txt   Y  Y  Y  Y  Y  Y  -  -  -  -  -  -
root+link       contract:doc          Y  Y  Y  Y  Y  Y  -  -  -  -  -  -
root+link       contract:img/b.png    Y  Y  Y  Y  Y  Y  -  -  -  -  -  -
root+link       public                Y  -  -  -  -  -  -  -  -  -  -  -
root+link       public:x.txt          Y  -  -  -  -  -  -  -  -  -  -  -
root+link       open                  Y  Y  Y  Y  Y  Y  -  -  -  -  -  -
root+link       open:docs/a.txt       Y  Y  Y  Y  Y  Y  -  -  -  -  -  -
root+link       @owner                Y  -  -  -  -  -  -  -  -  -  -  -
root+link       @stranger             Y  -  -  -  -  -  -  -  -  -  -  -
root+link       owned@stranger        Y  Y  Y  Y  Y  Y  -  -  -  -  -  -
owner+link      svc                   Y  -  -  -  -  -  -  -  -  -  -  -
owner+link      owned                 Y  Y  Y  Y  Y  Y  -  -  -  -  -  -
owner+link      owned:docs/a.txt      Y  Y  Y  Y  Y  Y  -  -  -  -  -  -
owner+link      owned:shared/x        Y  Y  Y  Y  Y  Y  -  -  -  -  -  -
owner+link      contract              Y  -  -  -  -  -  -  -  -  -  -  -
owner+link      contract:docs/a.txt   Y  -  -  -  -  -  -  -  -  -  -  -
owner+link      contract:doc          Y  -  -  -  -  -  -  -  -  -  -  -
owner+link      contract:img/b.png    Y  -  -  -  -  -  -  -  -  -  -  -
owner+link      public                Y  -  -  -  -  -  -  -  -  -  -  -
owner+link      public:x.txt          Y  -  -  -  -  -  -  -  -  -  -  -
owner+link      open                  Y  -  -  -  -  -  -  -  -  -  -  -
owner+link      open:docs/a.txt       Y  -  -  -  -  -  -  -  -  -  -  -
owner+link      @owner                Y  -  -  -  -  -  -  -  -  -  -  -
owner+link      @stranger             Y  -  -  -  -  -  -  -  -  -  -  -
owner+link      owned@stranger        Y  Y  Y  Y  Y  Y  -  -  -  -  -  -
reader+link     svc                   Y  -  -  -  -  -  -  -  -  -  -  -
reader+link     owned                 Y  -  -  -  -  -  -  -  -  -  -  -
reader+link     owned:docs/a.txt      Y  -  -  -  -  -  -  -  -  -  -  -
reader+link     owned:shared/x        Y  -  -  -  -  -  -  -  -  -  -  -
reader+link     contract              Y  -  -  -  -  -  -  -  -  -  -  -
reader+link     contract:docs/a.txt   Y  -  -  -  -  -  -  -  -  -  -  -
reader+link     contract:doc          Y  -  -  -  -  -  -  -  -  -  -  -
reader+link     contract:img/b.png    Y  -  -  -  -  -  -  -  -  -  -  -
reader+link     public                Y  -  -  -  -  -  -  -  -  -  -  -
reader+link     public:x.txt          Y  -  -  -  -  -  -  -  -  -  -  -
reader+link     open                  Y  -  Y  -  Y  -  -  -  -  -  -  -
reader+link     open:docs/a.txt       Y  -  Y  -  Y  -  -  -  -  -  -  -
reader+link     @owner                Y  -  -  -  -  -  -  -  -  -  -  -
reader+link     @stranger             Y  -  -  -  -  -  -  -  -  -  -  -
reader+link     owned@stranger        Y  -  -  -  -  -  -  -  -  -  -  -
sharer+link     svc                   Y  -  -  -  -  -  -  -  -  -  -  -
sharer+link     owned                 Y  -  -  -  -  -  -  -  -  -  -  -
sharer+link     owned:docs/a.txt      Y  -  -  -  -  -  -  -  -  -  -  -
sharer+link     owned:shared/x        Y  -  Y  -  Y  -  -  -  -  -  -  -
sharer+link     contract              Y  -  -  -  -  -  -  -  -  -  -  -
sharer+link     contract:docs/a.txt   Y  -  -  -  -  -  -  -  -  -  -  -
sharer+link     contract:doc          Y  -  -  -  -  -  -  -  -  -  -  -
sharer+link     contract:img/b.png    Y  -  -  -  -  -  -  -  -  -  -  -
sharer+link     public                Y  -  -  -  -  -  -  -  -  -  -  -
sharer+link     public:x.txt          Y  -  -  -  -  -  -  -  -  -  -  -
sharer+link     open                  Y  -  -  -  -  -  -  -  -  -  -  -
sharer+link     open:docs/a.txt       Y  -  -  -  -  -  -  -  -  -  -  -
sharer+link     @owner                Y  -  -  -  -  -  -  -  -  -  -  -
sharer+link     @stranger             Y  -  -  -  -  -  -  -  -  -  -  -
sharer+link     owned@stranger        Y  -  -  -  -  -  -  -  -  -  -  -
prefixrw+link   svc                   Y  -  -  -  -  -  -  -  -  -  -  -
prefixrw+link   owned                 Y  -  -  -  -  -  -  -  -  -  -  -
prefixrw+link   owned:docs/a.txt      Y  -  -  -  -  -  -  -  -  -  -  -
prefixrw+link   owned:shared/x        Y  -  -  -  -  -  -  -  -  -  -  -
prefixrw+link   contract              Y  -  -  -  -  -  -  -  -  -  -  -
prefixrw+link   contract:docs/a.txt   Y  -  -  -  -  -  -  -  -  -  -  -
prefixrw+link   contract:doc          Y  -  -  -  -  -  -  -  -  -  -  -
prefixrw+link   contract:img/b.png    Y  -  -  -  -  -  -  -  -  -  -  -
prefixrw+link   public                Y  -  -  -  -  -  -  -  -  -  -  -
prefixrw+link   public:x.txt          Y  -  -  -  -  -  -  -  -  -  -  -
prefixrw+link   open                  Y  -  -  -  -  -  -  -  -  -  -  -
prefixrw+link   open:docs/a.txt       Y  -  -  -  -  -  -  -  -  -  -  -
prefixrw+link   @owner                Y  -  -  -  -  -  -  -  -  -  -  -
prefixrw+link   @stranger             Y  -  -  -  -  -  -  -  -  -  -  -
prefixrw+link   owned@stranger        Y  -  -  -  -  -  -  -  -  -  -  -
guest+link      svc                   Y  -  -  -  -  -  -  -  -  -  -  -
guest+link      owned                 Y  -  -  -  -  -  -  -  -  -  -  -
guest+link      owned:docs/a.txt      Y  -  -  -  -  -  -  -  -  -  -  -
guest+link      owned:shared/x        Y  -  -  -  -  -  -  -  -  -  -  -
guest+link      contract              Y  -  -  -  -  -  -  -  -  -  -  -
guest+link      contract:docs/a.txt   Y  -  -  -  -  -  -  -  -  -  -  -
guest+link      contract:doc          Y  -  -  -  -  -  -  -  -  -  -  -
guest+link      contract:img/b.png    Y  -  -  -  -  -  -  -  -  -  -  -
guest+link      public                Y  -  -  -  -  -  -  -  -  -  -  -
guest+link      public:x.txt          Y  -  -  -  -  -  -  -  -  -  -  -
guest+link      open                  Y  -  -  -  -  -  -  -  -  -  -  -
guest+link      open:docs/a.txt       Y  -  -  -  -  -  -  -  -  -  -  -
guest+link      @owner                Y  -  -  -  -  -  -  -  -  -  -  -
guest+link      @stranger             Y  -  -  -  -  -  -  -  -  -  -  -
guest+link      owned@stranger        Y  -  -  -  -  -  -  -  -  -  -  -
anonymous+link  svc                   -  -  -  -  -  -  -  -  -  -  -  -
anonymous+link  owned                 -  -  -  -  -  -  -  -  -  -  -  -
anonymous+link  owned:docs/a.txt      -  -  -  -  -  -  -  -  -  -  -  -
anonymous+link  owned:shared/x        -  -  -  -  -  -  -  -  -  -  -  -
anonymous+link  contract              -  -  -  -  -  -  -  -  -  -  -  -
anonymous+link  contract:docs/a.txt   -  -  -  -  -  -  -  -  -  -  -  -
anonymous+link  contract:doc          -  -  -  -  -  -  -  -  -  -  -  -
anonymous+link  contract:img/b.png    -  -  -  -  -  -  -  -  -  -  -  -
anonymous+link  public                -  -  -  -  -  -  -  -  -  -  -  -
anonymous+link  public:x.txt          -  -  -  -  -  -  -  -  -  -  -  -
anonymous+link  open                  -  -  -  -  -  -  -  -  -  -  -  -
anonymous+link  open:docs/a.txt       -  -  -  -  -  -  -  -  -  -  -  -
anonymous+link  @owner                -  -  -  -  -  -  -  -  -  -  -  -
anonymous+link  @stranger             -  -  -  -  -  -  -  -  -  -  -  -
anonymous+link  owned@stranger        -  -  -  -  -  -  -  -  -  -  -  -
"""


def _resource(name: str) -> Resource:
    if name == "svc":
        return Resource(bucket=None)
    name, _, subject = name.partition("@")
    bucket, _, key = name.partition(":")
    return Resource(bucket=BUCKETS[bucket] if bucket else None, key=key or None,
                    subject=SUBJECTS[subject] if subject else None)


def _cells() -> list[tuple[str, str, Action, bool]]:
    lines = [line.split() for line in TABLE.strip().splitlines()]
    header, rows = lines[0], lines[1:]
    assert header[2:] == HEADER
    cells: list[tuple[str, str, Action, bool]] = []
    for principal, resource, *answers in rows:
        assert len(answers) == len(COLUMNS), (principal, resource)
        assert all(a in {"Y", "-"} for a in answers), (principal, resource)
        cells.extend((principal, resource, action, answer == "Y")
                     for action, answer in zip(COLUMNS, answers, strict=True))
    return cells


CELLS = _cells()


def test_table_covers_every_combination_once() -> None:
    seen = {(p, r, a) for p, r, a, _ in CELLS}
    resources = {r for _, r, _, _ in CELLS}
    assert len(seen) == len(CELLS)
    assert {p for p, _, _ in seen} == set(PRINCIPALS)
    assert len(seen) == len(PRINCIPALS) * len(resources) * len(COLUMNS)
    # Account-level actions apply to an account, not a bucket: their table is test_access_account.py.
    # BUCKET_PUBLISH, BUCKET_OWNER and NODE_ADMIN have their own tests below; ACLs (rule 14) their table in
    # test_access_acl.py.
    assert set(COLUMNS) == set(Action) - {Action.ACCOUNT_READ, Action.ACCOUNT_ADMIN, Action.BUCKET_PUBLISH,
                                          Action.BUCKET_OWNER, Action.NODE_ADMIN, Action.OBJECT_TAGS_READ,
                                          Action.OBJECT_VERSION_DELETE,
                                          Action.ACL_READ, Action.ACL_WRITE}


@pytest.mark.parametrize("principal", sorted(PRINCIPALS))
def test_tags_are_read_as_objects_are_but_never_by_public_reading(principal: str) -> None:
    """OBJECT_TAGS_READ (GetObjectTagging) is OBJECT_READ of the same bucket made private: read grants, control
    and links give it as they give reads; a public-read bucket does not (AWS: public READ is s3:GetObject only)."""
    for who, resource, action, _ in CELLS:
        if who != principal or action is not Action.OBJECT_READ:
            continue
        target = _resource(resource)
        private = dataclasses.replace(target, bucket=dataclasses.replace(target.bucket, public_read=False)) \
            if target.bucket is not None else target
        assert authorize(PRINCIPALS[principal], Action.OBJECT_TAGS_READ, target) \
            == authorize(PRINCIPALS[principal], Action.OBJECT_READ, private), resource
    public = Resource(bucket=BUCKETS["public"], key="x.txt")
    assert authorize(PRINCIPALS["anonymous"], Action.OBJECT_READ, public)
    assert not authorize(PRINCIPALS["anonymous"], Action.OBJECT_TAGS_READ, public)


@pytest.mark.parametrize("principal", sorted(PRINCIPALS))
def test_deleting_a_version_needs_control_of_the_bucket(principal: str) -> None:
    """OBJECT_VERSION_DELETE (s3:DeleteObjectVersion) is OBJECT_WRITE for whoever controls the bucket, and
    nothing for anyone else: no grant (read-write included) and no public setting gives it."""
    who = PRINCIPALS[principal]
    for name, resource, action, _ in CELLS:
        if name != principal or action is not Action.OBJECT_WRITE:
            continue
        target = _resource(resource)
        controls = who.user is not None and target.bucket is not None and (
            target.bucket.owner_user_id == who.user.id
            or (who.user.role is Role.ADMIN and target.bucket.account_id == who.user.account_id))
        assert authorize(who, Action.OBJECT_VERSION_DELETE, target) \
            == (controls and authorize(who, Action.OBJECT_WRITE, target)), resource


#: Who may make each bucket public: the admins of its account, never through a link; not its member owner.
PUBLISHERS = {"owned": {"root", "admin2"}, "contract": {"root", "admin2"}, "public": {"other_admin"},
              "open": {"root", "admin2"}}


@pytest.mark.parametrize("bucket", sorted(PUBLISHERS))
def test_only_account_admins_publish(bucket: str) -> None:
    allowed = {name for name, principal in PRINCIPALS.items()
               if authorize(principal, Action.BUCKET_PUBLISH, Resource(BUCKETS[bucket]))}
    assert allowed == PUBLISHERS[bucket]


#: Who may change each bucket's owner (rule 12): the admins of its account, never through a link; not its
#: member owner, not an admin of another account.
OWNER_CHANGERS = PUBLISHERS


@pytest.mark.parametrize("bucket", sorted(OWNER_CHANGERS))
def test_only_account_admins_change_owners(bucket: str) -> None:
    allowed = {name for name, principal in PRINCIPALS.items()
               if authorize(principal, Action.BUCKET_OWNER, Resource(BUCKETS[bucket]))}
    assert allowed == OWNER_CHANGERS[bucket]


#: Rule 11, with account A as the node's operator (root) account: who may administer the node's accounts.
NODE_ADMINS = {"root", "admin2"}


def test_only_operator_admins_administer_the_node() -> None:
    node = Resource(None, account_id=ACCOUNT_A)
    allowed = {name for name, principal in PRINCIPALS.items() if authorize(principal, Action.NODE_ADMIN, node)}
    assert allowed == NODE_ADMINS  # not root+link, not members of A, not B's admin
    assert not authorize(PRINCIPALS["root"], Action.NODE_ADMIN, Resource(None))  # no operator account named
    # B's admin administers B (sees it), not the node: NODE_ADMIN is decided on the operator account only.
    assert authorize(PRINCIPALS["other_admin"], Action.ACCOUNT_ADMIN, Resource(None, account_id=ACCOUNT_B))


@pytest.mark.parametrize(("principal", "resource", "action", "expected"), CELLS,
                         ids=[f"{p}-{r}-{a}" for p, r, a, _ in CELLS])
def test_authorize_matrix(principal: str, resource: str, action: Action, expected: bool) -> None:
    assert authorize(PRINCIPALS[principal], action, _resource(resource)) is expected


def test_grants_of_another_user_are_ignored() -> None:
    """A principal assembled with someone else's grant (a bug upstream) must not gain from it."""
    stolen = _grant("reader", "owned", "", Permission.READ_WRITE)
    principal = Principal(_user("stranger", ACCOUNT_B, Role.MEMBER), grants=(stolen,))
    assert not authorize(principal, Action.OBJECT_READ, Resource(BUCKETS["owned"], "k"))
    assert visible_buckets(principal, BUCKETS.values()) == []


def test_grant_on_another_bucket_does_not_leak() -> None:
    principal = PRINCIPALS["reader"]
    assert not authorize(principal, Action.OBJECT_READ, Resource(BUCKETS["contract"], "k"))


def test_prefix_grant_listing_prefixes() -> None:
    principal = PRINCIPALS["prefixrw"]
    contract = BUCKETS["contract"]
    assert authorize(principal, Action.BUCKET_READ, Resource(contract, "docs/"))
    assert authorize(principal, Action.BUCKET_READ, Resource(contract, "docs/sub/"))
    assert not authorize(principal, Action.BUCKET_READ, Resource(contract, ""))
    assert not authorize(principal, Action.BUCKET_READ, Resource(contract, "do"))
    # Prefix matching is exact, byte for byte: no case folding, no path normalisation.
    assert not authorize(principal, Action.OBJECT_READ, Resource(contract, "Docs/a.txt"))
    assert not authorize(principal, Action.OBJECT_READ, Resource(contract, "./docs/a.txt"))


def test_read_grant_with_prefix_does_not_write() -> None:
    grant = _grant("m", "contract", "in/", Permission.READ)
    principal = Principal(_user("m", ACCOUNT_A, Role.MEMBER), grants=(grant,))
    assert authorize(principal, Action.OBJECT_READ, Resource(BUCKETS["contract"], "in/x"))
    assert not authorize(principal, Action.OBJECT_WRITE, Resource(BUCKETS["contract"], "in/x"))


def test_one_matching_grant_among_many_is_enough() -> None:
    grants = (_grant("m", "contract", "a/", Permission.READ),
              _grant("m", "contract", "b/", Permission.READ_WRITE))
    principal = Principal(_user("m", ACCOUNT_A, Role.MEMBER), grants=grants)
    assert authorize(principal, Action.OBJECT_WRITE, Resource(BUCKETS["contract"], "b/x"))
    assert not authorize(principal, Action.OBJECT_WRITE, Resource(BUCKETS["contract"], "a/x"))


def test_owner_of_a_bucket_in_another_account_is_not_an_admin_there() -> None:
    """Admin rights follow the bucket's account, not the owner's."""
    admin_b = PRINCIPALS["other_admin"]
    assert not authorize(admin_b, Action.BUCKET_ADMIN, Resource(BUCKETS["owned"]))


def test_contract_bucket_has_no_owner_match_for_users_without_id() -> None:
    """A contract bucket (owner None) must not match any user by owner id."""
    member = Principal(_user("owner", ACCOUNT_A, Role.MEMBER))
    assert not authorize(member, Action.OBJECT_READ, Resource(BUCKETS["contract"], "k"))


VISIBLE = {
    "root": ["owned", "contract", "open"],
    "admin2": ["owned", "contract", "open"],
    "owner": ["owned"],
    "reader": ["owned", "open"],
    "prefixrw": ["contract"],
    "stranger": [],
    "other_admin": ["public"],
    "guest": ["owned"],
    "sharer": ["owned"],
    "disabled_owner": [],
    "anonymous": [],
}


def test_sharing_needs_a_share_grant_that_allows_the_action() -> None:
    """A share grant on a prefix lets its holder share only what that grant gives, there: a read-write grant
    without share beside it adds nothing through a link."""
    sharer = PRINCIPALS["sharer"].through_link()
    owned = BUCKETS["owned"]
    assert authorize(sharer, Action.OBJECT_READ, Resource(owned, "shared/a"))
    assert not authorize(sharer, Action.OBJECT_WRITE, Resource(owned, "shared/a"))
    assert not authorize(sharer, Action.OBJECT_READ, Resource(owned, "private/a"))
    assert authorize(PRINCIPALS["sharer"], Action.OBJECT_WRITE, Resource(owned, "private/a"))  # header-signed


def test_open_sharing_is_the_actions_own_right() -> None:
    """sharing "any" (AWS's rule): whoever may do the action may sign a link for it, and no more."""
    reader = PRINCIPALS["reader"].through_link()
    open_bucket = BUCKETS["open"]
    assert authorize(reader, Action.OBJECT_READ, Resource(open_bucket, "k"))
    assert not authorize(reader, Action.OBJECT_WRITE, Resource(open_bucket, "k"))
    assert not authorize(PRINCIPALS["stranger"].through_link(), Action.OBJECT_READ, Resource(open_bucket, "k"))


def test_through_link_keeps_the_signer() -> None:
    reader = PRINCIPALS["reader"]
    linked = reader.through_link()
    assert (linked.user, linked.access_key_id, linked.grants, linked.via_link) == \
        (reader.user, reader.access_key_id, reader.grants, True)
    assert not reader.via_link


@pytest.mark.parametrize("principal", sorted(VISIBLE))
def test_visible_buckets(principal: str) -> None:
    names = [b.name for b in visible_buckets(PRINCIPALS[principal], BUCKETS.values())]
    assert names == VISIBLE[principal]


def test_lists_some_prefix() -> None:
    """Whoever may list part of a bucket (a prefix grant) may see that it exists; nobody else."""
    assert lists_some_prefix(PRINCIPALS["prefixrw"], BUCKETS["contract"])
    assert not lists_some_prefix(PRINCIPALS["prefixrw"], BUCKETS["owned"])
    assert not lists_some_prefix(PRINCIPALS["stranger"], BUCKETS["contract"])
    assert not lists_some_prefix(ANONYMOUS, BUCKETS["public"])
