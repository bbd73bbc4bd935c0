package com.metropia.portal.messaging;

import java.io.IOException;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;

import com.metropia.portal.messaging.dev.EmbeddedEmulators;
import com.metropia.portal.messaging.dev.EmbeddedPortalMessaging;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A start with settings that are missing or wrong, or that point at a queue or a MongoDB that does not answer, stops
 * with exit code 2 and one short block naming every problem and the setting to change, without a stack trace.
 * <p>
 * The service runs in a JVM of its own ({@link ChildJvm}) with only the environment each test gives, so that the AWS
 * settings or keys of the machine running the tests change nothing.
 */
class StartupConfigurationTest {

    private static final Duration WITHIN = Duration.ofSeconds(90);

    private final EmbeddedEmulators emulators = SharedEmulators.get();
    private final String queueUrl = emulators.createQueue("startup");

    @Test
    void should_stop_with_exit_code_2_when_the_queue_url_names_a_queue_that_does_not_exist() {
        Map<String, String> environment = environment();
        environment.put("PORTAL_SQS_QUEUE_URL", emulators.sqsEndpoint() + "/000000000000/no-such-queue");

        assertStoppedByConfiguration(run(environment), "1 problem",
                "SQS queue " + emulators.sqsEndpoint() + "/000000000000/no-such-queue (portal.sqs.queue-url,"
                + " PORTAL_SQS_QUEUE_URL) does not exist");
    }

    @Test
    void should_stop_when_no_aws_credentials_are_found() {
        Map<String, String> environment = environment();
        environment.remove("PORTAL_SQS_ACCESS_KEY");
        environment.remove("PORTAL_SQS_SECRET_KEY");

        assertStoppedByConfiguration(run(environment), "No AWS credentials for SQS", "AWS_ACCESS_KEY_ID",
                "portal.sqs.access-key");
    }

    @Test
    void should_stop_when_nothing_answers_at_the_sqs_endpoint() {
        Map<String, String> environment = environment();
        String endpoint = "http://127.0.0.1:" + PortalService.freePort();
        environment.put("PORTAL_SQS_ENDPOINT", endpoint);
        environment.put("PORTAL_SQS_QUEUE_URL", endpoint + "/000000000000/startup");

        assertStoppedByConfiguration(run(environment),
                "Nothing answers at " + endpoint + " (connection refused): check portal.sqs.endpoint");
    }

    @Test
    void should_stop_when_the_mongodb_host_does_not_resolve_and_not_show_the_password() {
        Map<String, String> environment = environment();
        environment.put("PORTAL_MONGODB_URI", "mongodb://portal:s3cret-pw@no-such-host.invalid:27017/");

        ChildJvm.Outcome outcome = run(environment);

        assertStoppedByConfiguration(outcome, "MongoDB at no-such-host.invalid:27017 does not answer, check"
                                              + " portal.mongodb.uri (PORTAL_MONGODB_URI)",
                "no-such-host.invalid does not resolve (unknown host)");
        assertThat(outcome.output()).doesNotContain("s3cret-pw");
    }

    @Test
    void should_stop_when_nothing_listens_on_the_mongodb_port() {
        Map<String, String> environment = environment();
        int port = PortalService.freePort();
        environment.put("PORTAL_MONGODB_URI", "mongodb://127.0.0.1:" + port + "/");

        assertStoppedByConfiguration(run(environment), "portal.mongodb.uri (PORTAL_MONGODB_URI)",
                "nothing listens at 127.0.0.1:" + port + " (connection refused)");
    }

    @Test
    void should_stop_when_the_http_port_is_in_use() throws IOException {
        try (ServerSocket taken = new ServerSocket(0)) {
            Map<String, String> environment = environment();
            environment.put("PORTAL_HTTP_PORT", String.valueOf(taken.getLocalPort()));

            assertStoppedByConfiguration(run(environment), "The HTTP server cannot listen on 0.0.0.0:"
                                                           + taken.getLocalPort() + " (Address already in use)",
                    "portal.http.port (PORTAL_HTTP_PORT)");
        }
    }

    @Test
    void should_report_every_missing_or_wrong_setting_at_once() {
        Map<String, String> environment = new LinkedHashMap<>();
        environment.put("PORTAL_HTTP_PORT", String.valueOf(PortalService.freePort()));
        environment.put("PORTAL_SQS_QUEUE", queueUrl);
        environment.put("PORTAL_SQS_MAX_ATTEMPTS", "many");
        environment.put("PORTAL_EVENTS_BATCH_SIZE", "0");
        environment.put("PORTAL_EVENTS_MAX_EVENTS", "0");

        assertStoppedByConfiguration(run(environment), "7 problems",
                "No AWS region: set portal.sqs.region (PORTAL_SQS_REGION) or AWS_REGION",
                "portal.sqs.queue (PORTAL_SQS_QUEUE) takes a queue name; put the URL " + queueUrl
                + " in portal.sqs.queue-url (PORTAL_SQS_QUEUE_URL)",
                "portal.sqs.max-attempts (PORTAL_SQS_MAX_ATTEMPTS) must be a whole number, not 'many'",
                "portal.events.batch-size (PORTAL_EVENTS_BATCH_SIZE) must be at least 1, not 0",
                "portal.events.max-events (PORTAL_EVENTS_MAX_EVENTS) must be at least 1, not 0",
                "portal.mongodb.uri (PORTAL_MONGODB_URI) is not set",
                "No API key for the HTTP API: set portal.api-keys (PORTAL_API_KEYS)");
    }

    @Test
    void should_start_with_the_backend_checks_off_while_sqs_and_mongodb_are_down() {
        Map<String, String> environment = environment();
        String endpoint = "http://127.0.0.1:" + PortalService.freePort();
        environment.put("PORTAL_SQS_ENDPOINT", endpoint);
        environment.put("PORTAL_SQS_QUEUE_URL", endpoint + "/000000000000/startup");
        environment.put("PORTAL_MONGODB_URI", "mongodb://127.0.0.1:" + PortalService.freePort() + "/");
        environment.put("PORTAL_STARTUP_CHECK_BACKENDS", "false");

        try (ChildJvm service = ChildJvm.start(PortalMessagingApplication.class,
                environment)) {
            service.awaitServing(Integer.parseInt(environment.get("PORTAL_HTTP_PORT")), WITHIN);

            assertThat(service.output()).contains("portal.startup.check-backends=false: SQS and MongoDB were not"
                                                  + " checked at start-up");
        }
    }

    @Test
    void should_stop_the_embedded_run_when_its_http_port_is_in_use() throws IOException {
        try (ServerSocket taken = new ServerSocket(0)) {
            Map<String, String> environment = new LinkedHashMap<>();
            environment.put("PORTAL_HTTP_PORT", String.valueOf(taken.getLocalPort()));
            environment.put("PORTAL_DEV_SQS_PORT", "0");
            environment.put("PORTAL_DEV_MONGODB_PORT", "0");

            assertStoppedByConfiguration(ChildJvm.run(EmbeddedPortalMessaging.class, environment, WITHIN),
                    "The HTTP server cannot listen on 127.0.0.1:" + taken.getLocalPort(), "PORTAL_HTTP_PORT",
                    "PORTAL_HTTP_HOST");
        }
    }

    @Test
    void should_stop_naming_a_setting_given_blank_and_its_default() {
        Map<String, String> environment = environment();
        environment.put("PORTAL_MONGODB_DATABASE", "");
        environment.put("PORTAL_EVENTS_BATCH_SIZE", " ");

        assertStoppedByConfiguration(run(environment), "2 problems",
                "portal.mongodb.database (PORTAL_MONGODB_DATABASE) is blank: give it a value, or leave it unset for"
                + " its default portal",
                "portal.events.batch-size (PORTAL_EVENTS_BATCH_SIZE) is blank: give it a value, or leave it unset for"
                + " its default 500");
    }

    // ---- in this JVM: settings the tests override whatever the environment holds ----------------------------------

    @Test
    void should_start_when_the_queue_and_mongodb_answer_the_checks() {
        Map<String, String> properties = PortalService.emulatorProperties(emulators, queueUrl, "portal_startup");
        properties.put("portal.startup.check-backends", "true");

        try (PortalService service = PortalService.start(properties)) {
            assertThat(service.context().getStatus().isStarted()).isTrue();
        }
    }

    @Test
    void should_refuse_a_malformed_mongodb_uri_without_repeating_it() {
        Map<String, String> properties = PortalService.emulatorProperties(emulators, queueUrl, "portal_startup");
        properties.put("portal.mongodb.uri", "mongo://admin:s3cret@db.example.com");

        assertThat(PortalService.startupFailure(properties)).contains("portal.mongodb.uri is not a valid").doesNotContain("s3cret");
    }

    @Test
    void should_not_log_the_password_of_the_mongodb_uri() {
        Map<String, String> properties = PortalService.emulatorProperties(emulators, queueUrl, "portal_startup");
        properties.put("portal.mongodb.uri", "mongodb://portal:s3cret-pw@127.0.0.1:" + emulators.mongoPort() + "/");
        try (CapturedLogs logs = CapturedLogs.of("org.apache.camel", org.apache.logging.log4j.Level.INFO);
             CapturedLogs ours = CapturedLogs.of("com.metropia", org.apache.logging.log4j.Level.INFO)) {
            PortalService.start(properties).close();

            assertThat(logs.lines()).anySatisfy(line -> assertThat(line).contains("portal.mongodb.uri = xxxxxx"));
            assertThat(logs.lines()).noneSatisfy(line -> assertThat(line).contains("s3cret-pw"));
            assertThat(ours.lines()).noneSatisfy(line -> assertThat(line).contains("s3cret-pw"));
        }
    }

    @Test
    void should_refuse_unacknowledged_writes() {
        Map<String, String> properties = PortalService.emulatorProperties(emulators, queueUrl, "portal_startup");
        properties.put("portal.mongodb.uri", emulators.mongoUri() + "/?w=0");

        assertThat(PortalService.startupFailure(properties)).contains("w=0");
    }

    @Test
    void should_refuse_to_start_when_the_queue_name_does_not_exist() {
        Map<String, String> properties = PortalService.emulatorProperties(emulators, queueUrl, "portal_startup");
        properties.put("portal.sqs.queue", "no-such-queue");

        assertThat(PortalService.startupFailure(properties)).contains("SQS queue 'no-such-queue' (portal.sqs.queue)")
                .contains("does not exist");
    }

    /** Everything right: the service would start with this environment (a test then spoils one thing). */
    private Map<String, String> environment() {
        Map<String, String> environment = PortalService.emulatorEnvironment(emulators, queueUrl, "portal_startup");
        environment.put("PORTAL_API_KEYS", PortalService.API_KEY);
        // a few seconds at most for a backend that does not answer
        environment.put("PORTAL_STARTUP_CHECK_TIMEOUT_MS", "3000");
        environment.put("PORTAL_MONGODB_SERVER_SELECTION_TIMEOUT_MS", "1500");
        return environment;
    }

    private static ChildJvm.Outcome run(Map<String, String> environment) {
        return ChildJvm.run(PortalMessagingApplication.class, environment, WITHIN);
    }

    /** Exit code 2, a block naming each problem, and none of the noise of a crash or a shutdown. */
    static void assertStoppedByConfiguration(ChildJvm.Outcome outcome, String... problems) {
        assertThat(outcome.exitCode()).as(outcome.output()).isEqualTo(PortalMessagingApplication.CONFIGURATION_ERROR);
        assertThat(outcome.output()).contains("portal-messaging did not start:").contains(problems)
                .doesNotContain("\tat ").doesNotContain("Caused by").doesNotContain("Exception in thread")
                .doesNotContain("SIGTERM");
    }
}
