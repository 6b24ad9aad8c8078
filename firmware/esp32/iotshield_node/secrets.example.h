// Copy to secrets.h (git-ignored) and fill in. Never commit secrets.h.
#pragma once

#define SECRET_WIFI_SSID "your-ssid"
#define SECRET_WIFI_PASSWORD "your-wifi-password"

#define SECRET_DEVICE "esp32-kitchen" // the device name: 1-64 of A-Z a-z 0-9 _ . -
#define SECRET_MQTT_HOST "192.168.1.10"
#define SECRET_MQTT_PORT 1883            // 8883 with TLS
#define SECRET_MQTT_USER "esp32-kitchen" // the broker's ACL: pattern write iotshield/sensors/%u/#
#define SECRET_MQTT_PASSWORD "change-me"

// TLS: define SECRET_MQTT_CA_CERT as the PEM of the CA that signed the broker's certificate.
// #define SECRET_MQTT_CA_CERT "-----BEGIN CERTIFICATE-----\n...\n-----END CERTIFICATE-----\n"
