#pragma once
// Whether a file holding a secret (a password, an API key, tokens) is open to other users.
#include <string>
#include <sys/types.h>

namespace iots::core {

// True when the group or others may read or write a regular file of this mode, as ssh refuses a
// key. One exception: a credential that systemd hands over (LoadCredential=, a file under
// $CREDENTIALS_DIRECTORY) is written 0400 and granted to the service's user by an ACL where the
// file system has ACLs, so its group bits show the ACL's mask (0440) and not a group that may read
// it; under that directory only group write and any bit of others count.
[[nodiscard]] bool open_to_others(mode_t mode, const std::string& path);

} // namespace iots::core
