package com.metropia.portal.messaging;

import java.util.Map;

import com.metropia.portal.messaging.dev.EmbeddedEmulators;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * A production start with incomplete configuration stops at once with a message naming the setting.
 */
class StartupConfigurationTest {

    private final EmbeddedEmulators emulators = SharedEmulators.get();
    private final String queueUrl = emulators.createQueue("startup");

    @Test
    void should_refuse_to_start_without_a_mongodb_uri_and_name_the_setting() {
        assumeTrue(System.getenv("PORTAL_MONGODB_URI") == null, "PORTAL_MONGODB_URI is set in this environment");
        Map<String, String> properties = PortalService.emulatorProperties(emulators, queueUrl, "portal_startup");
        properties.remove("portal.mongodb.uri");

        assertThat(PortalService.startupFailure(properties)).contains("portal.mongodb.uri").contains("PORTAL_MONGODB_URI");
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
    void should_refuse_to_start_without_a_region_and_name_the_setting() {
        assumeTrue(System.getenv("AWS_REGION") == null && System.getenv("AWS_DEFAULT_REGION") == null
                   && System.getenv("PORTAL_SQS_REGION") == null
                   && !new java.io.File(System.getProperty("user.home"), ".aws/config").exists(),
                "a region is configured in this environment");
        Map<String, String> properties = PortalService.emulatorProperties(emulators, queueUrl, "portal_startup");
        properties.remove("portal.sqs.region");

        assertThat(PortalService.startupFailure(properties)).contains("portal.sqs.region").contains("AWS_REGION");
    }

    @Test
    void should_refuse_a_queue_url_given_as_the_queue_name() {
        Map<String, String> properties = PortalService.emulatorProperties(emulators, queueUrl, "portal_startup");
        properties.put("portal.sqs.queue", queueUrl);

        assertThat(PortalService.startupFailure(properties)).contains("portal.sqs.queue-url");
    }

    @Test
    void should_refuse_to_start_when_the_queue_does_not_exist() {
        Map<String, String> properties = PortalService.emulatorProperties(emulators, queueUrl, "portal_startup");
        properties.put("portal.sqs.queue", "no-such-queue");

        assertThat(PortalService.startupFailure(properties)).contains("'no-such-queue'").contains("does not exist");
    }
}
