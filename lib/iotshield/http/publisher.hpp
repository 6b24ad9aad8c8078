#pragma once
// Where iots-serve's commands go: control/publisher.hpp, under the name the server has always used.
#include "iotshield/control/publisher.hpp"

namespace iots::http {

using Publisher = control::Publisher;

} // namespace iots::http
