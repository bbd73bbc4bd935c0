package com.metropia.portal.messaging;

import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;
import com.metropia.portal.messaging.events.EventTypeSchemas;
import org.bson.Document;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

/**
 * Event types as files: the eventMeta of an event whose name has a schema in routes/event-types is checked against it
 * before anything of the request is stored; other names pass, or are refused when portal.events.unknown-types says so.
 */
class EventTypeSchemasTest extends PortalTestSupport {

    @TempDir
    Path types;

    private static final String NEW_TYPE_SCHEMA = """
            {
              "$schema": "https://json-schema.org/draft/2020-12/schema",
              "type": "object",
              "required": ["badge"],
              "properties": {
                "badge": {"type": "string", "enum": ["bronze", "silver", "gold"]},
                "level": {"type": "integer", "minimum": 1},
                "earned_at": {"type": "string", "format": "date-time"}
              }
            }
            """;

    @Test
    void should_store_a_trip_completed_event_whose_eventMeta_matches_the_shipped_schema() throws Exception {
        HttpResponse<String> response = postJson("/api/events", """
                [{"userIds": ["123"], "eventName": "trip_completed",
                  "eventMeta": {"trip_id": "trip_789", "distance": 5.2, "duration": 1800, "points_earned": 50,
                                "driver_id": 7}}]
                """);

        assertThat(response.statusCode()).as(response.body()).isEqualTo(201);
        Document meta = storedDocuments().get(0).getList("data", Document.class).get(0).get("eventMeta", Document.class);
        assertThat(meta.get("distance")).isEqualTo(5.2);
        assertThat(meta.get("driver_id")).as("fields the seed does not list are kept").isEqualTo(7);
    }

    @Test
    void should_answer_400_naming_event_3_and_eventMeta_distance_and_store_none_of_the_4_events() throws Exception {
        HttpResponse<String> response = postJson("/api/events", """
                [{"userIds": ["1"], "eventName": "trip_completed", "eventMeta": {"distance": 1.5}},
                 {"userIds": ["2"], "eventName": "payment_completed", "eventMeta": {"amount": 25.5}},
                 {"userIds": ["3"], "eventName": "no_schema_here", "eventMeta": {"distance": "far"}},
                 {"userIds": ["4"], "eventName": "trip_completed", "eventMeta": {"trip_id": "t4", "distance": "far"}}]
                """);

        assertThat(response.statusCode()).isEqualTo(400);
        JsonNode problem = json(response);
        assertThat(problem.get("errors")).hasSize(1);
        JsonNode error = problem.get("errors").get(0);
        assertThat(error.get("index").asInt()).isEqualTo(3);
        assertThat(error.get("field").asText()).isEqualTo("eventMeta.distance");
        assertThat(error.get("message").asText()).contains("number").contains("trip_completed");
        assertThat(problem.get("detail").asText()).contains("event 3 eventMeta.distance");
        assertThat(storedDocuments()).isEmpty();
    }

    @Test
    void should_report_every_schema_problem_of_the_request_at_once() throws Exception {
        HttpResponse<String> response = postJson("/api/events", """
                [{"userIds": ["1"], "eventName": "payment_completed", "eventMeta": {"amount": "ten", "payment_id": 5}},
                 {"userIds": ["2"], "eventName": "user_registration", "eventMeta": {"initial_bonus": 1.5}}]
                """);

        assertThat(response.statusCode()).isEqualTo(400);
        JsonNode errors = json(response).get("errors");
        assertThat(errors).extracting(e -> e.get("index").asInt() + " " + e.get("field").asText())
                .containsExactly("0 eventMeta.amount", "0 eventMeta.payment_id", "1 eventMeta.initial_bonus");
        assertThat(storedDocuments()).isEmpty();
    }

    @Test
    void should_accept_an_event_whose_name_has_no_schema_by_default() throws Exception {
        HttpResponse<String> response = postJson("/api/events", """
                [{"userIds": ["1"], "eventName": "something_new", "eventMeta": {"anything": ["goes"]}}]
                """);

        assertThat(response.statusCode()).as(response.body()).isEqualTo(201);
        assertThat(storedDocuments()).hasSize(1);
    }

    @Test
    void should_refuse_a_bad_typed_event_sent_to_direct_events_by_a_java_caller() {
        List<Map<String, Object>> events = List.of(Map.of("userIds", List.of("1"), "eventName", "referral_bonus",
                "eventMeta", Map.of("bonus_amount", "a lot")));

        Throwable thrown = catchThrowable(() -> service.producer().requestBody("direct:events", events));

        assertThat(thrown.getCause()).isInstanceOf(InvalidRequestException.class);
        assertThat(((InvalidRequestException) thrown.getCause()).getErrors()).singleElement().satisfies(error -> {
            assertThat(error.get("index")).isEqualTo(0);
            assertThat(error.get("field")).isEqualTo("eventMeta.bonus_amount");
        });
        assertThat(storedDocuments()).isEmpty();
    }

    @Test
    void should_use_a_schema_file_dropped_into_a_types_dir_and_refuse_unknown_types_when_set_to() throws Exception {
        Files.writeString(types.resolve("badge_earned.schema.json"), NEW_TYPE_SCHEMA);
        Map<String, String> properties = PortalService.emulatorProperties(emulators, queueUrl, database);
        properties.put("portal.events.types-dir", types.toString());
        properties.put("portal.events.unknown-types", "refuse");
        try (PortalService refusing = PortalService.start(properties)) {
            HttpResponse<String> good = send(refusing.jsonPost("/api/events", """
                    [{"userIds": ["1"], "eventName": "badge_earned",
                      "eventMeta": {"badge": "gold", "level": 2, "earned_at": "2026-12-06T21:40:00Z"}}]
                    """));
            assertThat(good.statusCode()).as(good.body()).isEqualTo(201);
            assertThat(storedDocuments()).hasSize(1);
            sendEvent().drop();

            HttpResponse<String> bad = send(refusing.jsonPost("/api/events", """
                    [{"userIds": ["1"], "eventName": "badge_earned", "eventMeta": {"badge": "gold"}},
                     {"userIds": ["2"], "eventName": "badge_earned", "eventMeta": {"badge": "tin", "level": 0}},
                     {"userIds": ["3"], "eventName": "badge_earned", "eventMeta": {"level": 3, "earned_at": "yesterday"}},
                     {"userIds": ["4"], "eventName": "trip_completed", "eventMeta": {}}]
                    """));
            assertThat(bad.statusCode()).isEqualTo(400);
            JsonNode errors = json(bad).get("errors");
            assertThat(errors).extracting(e -> e.get("index").asInt() + " " + e.get("field").asText())
                    .containsExactly("1 eventMeta.badge", "1 eventMeta.level", "2 eventMeta.badge", "2 eventMeta.earned_at",
                            "3 eventName");
            assertThat(errors.get(4).get("message").asText())
                    .contains("no schema for event type 'trip_completed'").contains("refuse").contains("badge_earned");
            assertThat(storedDocuments()).isEmpty();

            // the worked example of the README, "Event types"
            HttpResponse<String> example = send(refusing.jsonPost("/api/events", """
                    [{"userIds": ["1"], "eventName": "badge_earned", "eventMeta": {"badge": "gold"}},
                     {"userIds": ["2"], "eventName": "badge_earned", "eventMeta": {"badge": "tin", "level": 0}}]
                    """));
            assertThat(example.statusCode()).isEqualTo(400);
            JsonNode problem = json(example);
            assertThat(problem.get("detail").asText()).isEqualTo("The request does not match the schema of its event"
                    + " types: event 1 eventMeta.badge: does not have a value in the enumeration [\"bronze\", \"silver\","
                    + " \"gold\"] (schema of badge_earned); event 1 eventMeta.level: must have a minimum value of 1"
                    + " (schema of badge_earned)");
            assertThat(problem.get("errors").toString()).isEqualTo("[{\"index\":1,\"field\":\"eventMeta.badge\","
                    + "\"message\":\"does not have a value in the enumeration [\\\"bronze\\\", \\\"silver\\\","
                    + " \\\"gold\\\"] (schema of badge_earned)\"},{\"index\":1,\"field\":\"eventMeta.level\","
                    + "\"message\":\"must have a minimum value of 1 (schema of badge_earned)\"}]");
            assertThat(storedDocuments()).isEmpty();
        }
    }

    @Test
    void should_not_start_with_a_broken_schema_file_naming_the_file_line_and_column() throws IOException {
        Files.writeString(types.resolve("badge_earned.schema.json"), """
                {
                  "type": "object",
                  "properties": {
                    "badge": {"type": "strng"}
                  }
                }
                """);
        Files.writeString(types.resolve("broken.schema.json"), "{\n  \"type\": \"object\",\n  \"type\": \"array\"\n}\n");
        Map<String, String> properties = PortalService.emulatorProperties(emulators, queueUrl, database);
        properties.put("portal.events.types-dir", types.toString());
        properties.put("portal.events.unknown-types", "maybe");

        String failure = PortalService.startupFailure(properties);

        assertThat(failure).contains("badge_earned.schema.json:4:23: not a valid JSON Schema: does not have a value in the enumeration")
                .contains("broken.schema.json:3:9: not valid JSON: Duplicate field 'type'")
                .contains("portal.events.unknown-types (PORTAL_EVENTS_UNKNOWN_TYPES) must be accept or refuse, not 'maybe'");
    }

    @Test
    void should_read_the_shipped_schemas_from_the_class_path_when_the_routes_come_from_it() throws Exception {
        Map<String, String> properties = PortalService.emulatorProperties(emulators, queueUrl, database);
        properties.put("camel.main.routes-include-pattern", PortalMessagingApplication.PACKED_ROUTES);
        try (PortalService embedded = PortalService.start(properties)) {
            EventTypeSchemas eventTypes = embedded.context().getRegistry()
                    .lookupByNameAndType("portalEventTypes", EventTypeSchemas.class);
            assertThat(eventTypes.folders()).containsExactly("classpath:portal-messaging/routes/event-types");
            assertThat(eventTypes.types()).containsExactly("milestone_achieved", "payment_completed",
                    "referral_bonus", "trip_completed", "user_registration");

            HttpResponse<String> bad = send(embedded.jsonPost("/api/events", """
                    [{"userIds": ["1"], "eventName": "milestone_achieved", "eventMeta": {"milestone_type": 10}}]
                    """));
            assertThat(bad.statusCode()).isEqualTo(400);
            assertThat(json(bad).get("errors").get(0).get("field").asText()).isEqualTo("eventMeta.milestone_type");
            assertThat(storedDocuments()).isEmpty();
        }
    }

    @Test
    void should_read_the_event_types_folder_beside_the_routes_of_the_service() {
        EventTypeSchemas eventTypes = service.context().getRegistry()
                .lookupByNameAndType("portalEventTypes", EventTypeSchemas.class);

        assertThat(eventTypes.folders()).containsExactly("file:routes/event-types");
        assertThat(eventTypes.types()).contains("trip_completed", "user_registration", "payment_completed");
        assertThat(eventTypes.refusesUnknownTypes()).isFalse();
    }

    @Test
    void should_not_start_with_a_types_dir_that_does_not_exist() {
        Map<String, String> properties = PortalService.emulatorProperties(emulators, queueUrl, database);
        properties.put("portal.events.types-dir", types.resolve("missing").toString());

        assertThat(PortalService.startupFailure(properties)).contains("portal.events.types-dir")
                .contains("there is no folder");
    }
}
