#include "iotshield/http/service.hpp"

#include "iotshield/control/mqtt.hpp"
#include "iotshield/core/printable.hpp"
#include "iotshield/core/signals.hpp"

#include <chrono>
#include <memory>
#include <thread>

namespace iots::http {

int run(const ServerOptions& o, const core::BrokerOptions& broker, const core::Logger& log) {
    std::unique_ptr<control::MqttControl> control;
    if (broker.enabled())
        control = std::make_unique<control::MqttControl>(broker, log);
    Server server(o, log, control.get());
    const int port = server.bind();
    if (control)
        control->start([&server](std::string_view topic,
                                 std::string_view payload) { server.handle_ack(topic, payload); },
                       10000);
    const bool v6 = o.host.find(':') != std::string::npos;
    log.info("serving http://{}{}{}:{}/ from {}{}", v6 ? "[" : "", o.host, v6 ? "]" : "", port,
             core::printable(o.db_path),
             o.tokens ? " (bearer tokens required)"
                      : (o.allow_control && control ? " (control on)" : ""));
    std::thread watcher([&server] { // SIGINT/SIGTERM: close the listener and the open streams
        while (!core::stop_requested())
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
        server.stop();
    });
    server.run();
    core::request_stop();
    watcher.join();
    return 0;
}

} // namespace iots::http
