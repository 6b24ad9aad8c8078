// The board's wiring and the node's settings (committed; credentials live in secrets.h).
// ESP32 DevKit (WROOM-32). Analog inputs are on ADC1 (GPIO 32-39): ADC2 stops working while
// WiFi is on.
#pragma once

// Sensors
#define PIN_DHT22 4     // DHT22 data, 10 kΩ pull-up to 3.3 V
#define PIN_MQ2_AO 34   // MQ-2 AO through a 10 kΩ / 20 kΩ divider (5 V → 3.3 V), ADC1_CH6
#define PIN_LDR 35      // LDR to 3.3 V, 10 kΩ to GND, ADC1_CH7
#define PIN_FLAME_DO 27 // flame module DO, active LOW (LOW = flame)
#define PIN_PIR 26      // HC-SR501 OUT, HIGH = motion

// Relays (a 4-channel module; most are active LOW: IN low = coil energised)
#define PIN_RELAY_FAN 16
#define PIN_RELAY_VALVE 17 // a normally-closed gas solenoid: energised = open
#define PIN_RELAY_BUZZER 18
#define PIN_RELAY_SPARE 19 // "relay" in commands
#define RELAY_ACTIVE_LOW 1

// Node
#define NODE_INTERVAL_MS 10000UL
#define NODE_MQ2_WARMUP_MS 60000UL
#define NODE_OUTBOX 200 // readings kept while the broker is away (~40 B each)
#define NODE_TOPIC_PREFIX "iotshield"
#define NODE_NTP_1 "pool.ntp.org"
#define NODE_NTP_2 "time.nist.gov"
#define MQ2_RL_KOHM 4.29            // the module's 5 kΩ in parallel with the 30 kΩ divider
#define MQ2_DIVIDER_K (20.0 / 30.0) // V_pin / V_AO of the divider above
