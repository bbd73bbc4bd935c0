package com.metropia.portal.messaging;

import com.metropia.portal.messaging.http.PortalOpenApi;
import com.metropia.portal.messaging.support.PortalJson;
import java.io.IOException;
import java.io.InputStream;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.networknt.schema.JsonSchemaFactory;
import com.networknt.schema.SpecVersion;
import com.networknt.schema.ValidationMessage;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The OpenAPI document at /api/openapi.json: every status of both endpoints, the request schemas the routes validate
 * with, the same verdict as the service on what a valid request is, and every request and answer the README shows.
 */
class OpenApiDocumentTest extends PortalTestSupport {

    private static final String TASKS = "/api/tasks";
    private static final String EVENTS = "/api/events";
    private static final JsonSchemaFactory SCHEMAS = JsonSchemaFactory.getInstance(SpecVersion.VersionFlag.V202012);

    private JsonNode document;

    @BeforeAll
    void fetchDocument() throws Exception {
        HttpResponse<String> response = send(service.request("/api/openapi.json").GET());
        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
        document = JSON.readTree(response.body());
    }

    @Test
    void should_serve_an_openapi_3_1_document_with_the_key_and_refuse_it_without() throws Exception {
        HttpResponse<String> response = send(service.request("/api/openapi.json").GET());
        assertThat(response.headers().firstValue("Content-Type")).hasValue("application/json");
        assertThat(document.get("openapi").asText()).isEqualTo("3.1.0");
        assertThat(document.get("jsonSchemaDialect").asText()).isEqualTo("https://json-schema.org/draft/2020-12/schema");
        assertThat(document.at("/paths").fieldNames()).toIterable().containsExactly(TASKS, EVENTS);

        HttpResponse<String> anonymous = send(java.net.http.HttpRequest.newBuilder(service.uri("/api/openapi.json")).GET());
        assertThat(anonymous.statusCode()).isEqualTo(401);
    }

    @Test
    void should_list_every_status_each_endpoint_answers_with_its_content_type() {
        // 408, 414, 431 and 501: the HTTP server's answers to a request it cannot read, before any route
        assertThat(statuses(TASKS)).containsExactly("200", "202", "207", "400", "401", "404", "405", "408", "409", "413", "414",
                "415", "431", "500", "501", "502", "503");
        assertThat(statuses(EVENTS)).containsExactly("200", "201", "400", "401", "404", "405", "408", "409", "413",
                "414", "415", "431", "500", "501", "503");
        for (String path : List.of(TASKS, EVENTS)) {
            for (String status : statuses(path)) {
                JsonNode content = response(path, status).get("content");
                String expected = status.startsWith("2") ? "application/json" : "application/problem+json";
                assertThat(content.fieldNames()).toIterable().as(path + " " + status).containsExactly(expected);
            }
        }
        assertThat(response(TASKS, "503").at("/headers/Retry-After")).isNotNull();
        assertThat(response(TASKS, "401").has("headers")).isTrue();
    }

    @Test
    void should_hold_each_json_schema_file_the_routes_validate_with_as_it_is() throws Exception {
        Set<String> files = new TreeSet<>();
        try (Stream<Path> schemaFiles = Files.list(Path.of("src/main/resources/portal-messaging/schemas"))) {
            schemaFiles.forEach(file -> files.add(file.getFileName().toString()));
        }
        assertThat(new TreeSet<>(PortalOpenApi.SCHEMA_FILES.values())).as("every schema file is in the document")
                .isEqualTo(files);
        for (var entry : PortalOpenApi.SCHEMA_FILES.entrySet()) {
            ObjectNode file = (ObjectNode) readResource("portal-messaging/schemas/" + entry.getValue());
            file.remove("$schema");
            String asFile = file.toString().replace("\"event.schema.json\"", "\"#/components/schemas/Event\"");
            assertThat(document.at("/components/schemas/" + entry.getKey()).toString()).isEqualTo(asFile);
        }
        // one task, or an array of them
        assertThat(document.at("/paths/~1api~1tasks/post/requestBody/content/application~1json/schema/oneOf/0/$ref")
                .asText()).isEqualTo("#/components/schemas/Task");
        assertThat(document.at("/paths/~1api~1tasks/post/requestBody/content/application~1json/schema/oneOf/1/items/$ref")
                .asText()).isEqualTo("#/components/schemas/Task");
        assertThat(document.at("/paths/~1api~1events/post/requestBody/content/application~1json/schema").toString())
                .contains("#/components/schemas/Events");
    }

    @Test
    void should_agree_with_the_service_on_which_tasks_and_events_are_valid() throws Exception {
        List<String> tasks = List.of(
                "{\"action\":\"user_registration\",\"data\":{\"user_id\":1}}",
                "{\"action\":\"a\",\"data\":{}}",
                "{\"action\":\"\",\"data\":{}}",
                "{\"action\":\"   \",\"data\":{}}",
                "{\"action\":\"a\"}",
                "{\"action\":\"a\",\"data\":[]}",
                "{\"action\":7,\"data\":{}}",
                "{\"action\":\"a\",\"data\":{},\"extra\":true}",
                "[{\"action\":\"a\",\"data\":{}}]",
                "[{\"action\":\"a\",\"data\":{}}, {\"action\":\"a\"}]",
                "[]");
        List<String> events = List.of(
                "[]",
                "[{\"userIds\":[\"1\",\"2\"],\"eventName\":\"trip_completed\",\"eventMeta\":{\"d\":5.2}}]",
                "[{\"userIds\":[12345],\"eventName\":\"e\",\"eventMeta\":{}}]",
                "{\"events\":[{\"userIds\":[\"1\"],\"eventName\":\"e\",\"eventMeta\":{}}]}",
                "[{\"userIds\":[],\"eventName\":\"e\",\"eventMeta\":{}}]",
                "[{\"userIds\":[\"\"],\"eventName\":\"e\",\"eventMeta\":{}}]",
                "[{\"userIds\":[\"1\"],\"eventName\":\"\",\"eventMeta\":{}}]",
                "[{\"userIds\":[\"1\"],\"eventName\":\"e\"}]",
                "[{\"userIds\":[\"1\"],\"eventName\":\"e\",\"eventMeta\":[]}]",
                "[{\"userIds\":[\"1\"],\"eventName\":\"e\",\"eventMeta\":{},\"extra\":1}]",
                "{\"events\":{}}",
                "{\"other\":[]}");
        int valid = 0;
        int invalid = 0;
        for (String path : List.of(TASKS, EVENTS)) {
            for (String body : path.equals(TASKS) ? tasks : events) {
                HttpResponse<String> response = postJson(path, body);
                Set<ValidationMessage> problems = validate(requestSchema(path), JSON.readTree(body));
                assertThat(response.statusCode() == 400).as("%s %s: service %s, document %s", path, body,
                        response.statusCode(), problems).isEqualTo(!problems.isEmpty());
                assertThat(validate(responseSchema(path, String.valueOf(response.statusCode())),
                        JSON.readTree(response.body()))).as("the answer %s %s", response.statusCode(), response.body())
                        .isEmpty();
                if (problems.isEmpty()) {
                    valid++;
                } else {
                    invalid++;
                }
            }
        }
        assertThat(valid).isEqualTo(7);
        assertThat(invalid).isEqualTo(16);
    }

    @Test
    void should_describe_the_paths_the_service_is_configured_with() throws Exception {
        JsonNode configured = JSON.readTree(new PortalOpenApi(PortalJson.newObjectMapper(), "/v2/tasks", "/v2/events").json());

        assertThat(configured.at("/paths").fieldNames()).toIterable().containsExactly("/v2/tasks", "/v2/events");
        assertThat(configured.at("/paths/~1v2~1tasks/post")).isEqualTo(document.at(operation(TASKS)));
    }

    @Test
    void should_validate_every_request_and_answer_example_of_the_readme() throws Exception {
        List<String> checked = new ArrayList<>();
        for (ReadmeExample example : readmeExamples(Files.readString(Path.of("README.md")))) {
            String schema = example.status() == null ? requestSchema(example.path())
                    : responseSchema(example.path(), example.status());
            assertThat(validate(schema, JSON.readTree(example.json()))).as("README line %d: %s", example.line(),
                    example.json()).isEmpty();
            checked.add(example.line() + " " + example.path() + " " + (example.status() == null ? "request"
                    : example.status()));
        }
        // the curl lines of both endpoints, their 202, 201 and 401 answers, the fallback answer, the empty-list answer,
        // the 400 and 503 problems of the error table
        assertThat(checked).as(checked.toString()).hasSizeGreaterThanOrEqualTo(10);
        assertThat(checked).anyMatch(c -> c.endsWith(TASKS + " request")).anyMatch(c -> c.endsWith(EVENTS + " request"))
                .anyMatch(c -> c.endsWith(" 202")).anyMatch(c -> c.endsWith(" 201")).anyMatch(c -> c.endsWith(" 200"))
                .anyMatch(c -> c.endsWith(" 401")).anyMatch(c -> c.endsWith(" 400")).anyMatch(c -> c.endsWith(" 503"));
    }

    /** A JSON body of the README: a request to the path (no status) or an answer from it. */
    record ReadmeExample(int line, String path, String status, String json) {
    }

    private static final Pattern API_PATH = Pattern.compile("(/api/[a-z]+)\\b");
    private static final Pattern CURL_BODY = Pattern.compile("-d '([^']*)'", Pattern.DOTALL);
    private static final Pattern STATUS_LINE = Pattern.compile("^HTTP/1\\.1 (\\d{3})");
    private static final Pattern INLINE_ANSWER = Pattern.compile("`(\\d{3}) (\\{[^`]*})`");

    /**
     * The examples of the README's HTTP API section (not its health and Python parts): each {@code curl -X POST} with a
     * body is a request to its path; an {@code HTTP/1.1} block, a problem document (its {@code status}), a bare JSON block after
     * an answer, or an inline {@code `200 {...}`} is an answer of the path last shown.
     */
    static List<ReadmeExample> readmeExamples(String readme) {
        List<ReadmeExample> examples = new ArrayList<>();
        String[] lines = readme.split("\n", -1);
        boolean inApi = false;
        boolean skipped = false;
        String path = null;
        String lastStatus = null;
        for (int i = 0; i < lines.length; i++) {
            String line = lines[i];
            if (line.startsWith("## ")) {
                inApi = line.equals("## HTTP API");
                continue;
            }
            if (line.startsWith("### ")) {
                skipped = line.contains("Health and metrics") || line.contains("From the Python portal");
                Matcher heading = API_PATH.matcher(line);
                if (heading.find()) {
                    path = heading.group(1);
                    lastStatus = null;
                }
                continue;
            }
            if (!inApi || skipped) {
                continue;
            }
            if (!line.startsWith("```")) {
                Matcher inline = INLINE_ANSWER.matcher(line);
                while (inline.find() && path != null) {
                    examples.add(new ReadmeExample(i + 1, path, inline.group(1), inline.group(2)));
                }
                continue;
            }
            int start = i + 1;
            StringBuilder block = new StringBuilder();
            for (i = start; i < lines.length && !lines[i].startsWith("```"); i++) {
                block.append(lines[i]).append('\n');
            }
            String text = block.toString().strip();
            if (text.startsWith("curl") && text.contains("-X POST")) {
                Matcher url = API_PATH.matcher(text);
                if (url.find()) {
                    path = url.group(1);
                }
                lastStatus = null;
                Matcher body = CURL_BODY.matcher(text);
                if (body.find()) {
                    examples.add(new ReadmeExample(start, path, null, body.group(1)));
                }
                continue;
            }
            Matcher statusLine = STATUS_LINE.matcher(text);
            if (statusLine.find()) {
                lastStatus = statusLine.group(1);
                int blank = text.indexOf("\n\n");
                if (blank > 0) {
                    examples.add(new ReadmeExample(start, path, lastStatus, text.substring(blank + 2).strip()));
                }
                continue;
            }
            if (text.startsWith("{")) {
                JsonNode json;
                try {
                    json = JSON.readTree(text);
                } catch (IOException e) {
                    throw new AssertionError("README line " + start + ": a JSON block that is not JSON: " + e.getMessage());
                }
                String status = json.path("status").isInt() ? json.get("status").asText() : lastStatus;
                assertThat(status).as("README line %d: an answer with no status before it", start).isNotNull();
                examples.add(new ReadmeExample(start, path, status, text));
            }
        }
        return examples;
    }

    private List<String> statuses(String path) {
        List<String> statuses = new ArrayList<>();
        document.at(operation(path) + "/responses").fieldNames().forEachRemaining(statuses::add);
        statuses.sort(null);
        return statuses;
    }

    private static String operation(String path) {
        return "/paths/" + path.replace("~", "~0").replace("/", "~1") + "/post";
    }

    private String requestSchema(String path) {
        return operation(path) + "/requestBody/content/application~1json/schema";
    }

    /** The JSON pointer of the schema of an answer, through the shared response it refers to. */
    private String responseSchema(String path, String status) {
        String pointer = operation(path) + "/responses/" + status;
        JsonNode response = document.at(pointer);
        assertThat(response.isMissingNode()).as("the document declares %s for %s", status, path).isFalse();
        if (response.has("$ref")) {
            pointer = response.get("$ref").asText().substring(1);
            response = document.at(pointer);
        }
        String mediaType = response.get("content").fieldNames().next();
        return pointer + "/content/" + mediaType.replace("/", "~1") + "/schema";
    }

    private JsonNode response(String path, String status) {
        JsonNode response = document.at(operation(path) + "/responses/" + status);
        return response.has("$ref") ? document.at(response.get("$ref").asText().substring(1)) : response;
    }

    /** Validates against one schema of the document, the document being the root its references resolve in. */
    private Set<ValidationMessage> validate(String pointer, JsonNode instance) {
        ObjectNode root = document.deepCopy();
        root.put("$ref", "#" + pointer);
        return SCHEMAS.getSchema(root).validate(instance);
    }

    private static JsonNode readResource(String name) throws IOException {
        try (InputStream in = OpenApiDocumentTest.class.getClassLoader().getResourceAsStream(name)) {
            return JSON.readTree(in);
        }
    }
}
