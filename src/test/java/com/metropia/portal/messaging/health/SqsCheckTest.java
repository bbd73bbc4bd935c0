package com.metropia.portal.messaging.health;

import java.net.UnknownHostException;

import org.junit.jupiter.api.Test;
import software.amazon.awssdk.awscore.exception.AwsErrorDetails;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.services.sqs.model.QueueDoesNotExistException;
import software.amazon.awssdk.services.sqs.model.SqsException;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The reason readiness gives for each kind of SQS failure; the emulator cannot refuse credentials, so these are the
 * exceptions the AWS SDK throws for them.
 */
class SqsCheckTest {

    @Test
    void should_call_a_missing_queue_refused() {
        SdkException gone = QueueDoesNotExistException.builder().statusCode(400)
                .awsErrorDetails(error("AWS.SimpleQueueService.NonExistentQueue", "The specified queue does not exist."))
                .build();

        assertThat(SqsCheck.kind(gone)).isEqualTo("refused");
        assertThat(SqsCheck.reason(gone))
                .isEqualTo("SQS refuses: the queue does not exist (check portal.sqs.queue or portal.sqs.queue-url)");
    }

    @Test
    void should_call_refused_credentials_and_permissions_refused() {
        SdkException token = SqsException.builder().statusCode(403)
                .awsErrorDetails(error("InvalidClientTokenId", "The security token included in the request is invalid."))
                .build();
        SdkException denied = SqsException.builder().statusCode(403)
                .awsErrorDetails(error("AccessDenied", "Access to the resource is denied."))
                .build();

        assertThat(SqsCheck.kind(token)).isEqualTo("refused");
        assertThat(SqsCheck.reason(token)).isEqualTo("SQS refuses the service's requests (check its credentials,"
                                                     + " permissions and queue): HTTP 403 InvalidClientTokenId: The"
                                                     + " security token included in the request is invalid.");
        assertThat(SqsCheck.kind(denied)).isEqualTo("refused");
    }

    @Test
    void should_call_missing_credentials_and_an_unknown_host_refused() {
        SdkException noCredentials = SdkClientException.create("Unable to load credentials from any of the providers"
                                                               + " in the chain");
        SdkException unknownHost = SdkClientException.create("Unable to execute HTTP request: sqs.nowhere.invalid",
                new UnknownHostException("sqs.nowhere.invalid"));

        assertThat(SqsCheck.kind(noCredentials)).isEqualTo("refused");
        assertThat(SqsCheck.reason(noCredentials)).startsWith("SQS cannot be called (permanent until the"
                                                              + " configuration changes): Unable to load credentials");
        assertThat(SqsCheck.kind(unknownHost)).isEqualTo("refused");
    }

    @Test
    void should_call_throttling_and_server_errors_errors_and_a_broken_connection_unreachable() {
        SdkException throttled = SqsException.builder().statusCode(429)
                .awsErrorDetails(error("ThrottlingException", "Rate exceeded")).build();
        SdkException serverError = SqsException.builder().statusCode(500)
                .awsErrorDetails(error("InternalFailure", "We encountered an internal error.")).build();
        // as the SDK builds it: the socket's error is the cause
        SdkException refused = SdkClientException.create("Unable to execute HTTP request: Connection refused",
                new java.net.ConnectException("Connection refused"));

        assertThat(SqsCheck.kind(throttled)).isEqualTo("error");
        assertThat(SqsCheck.reason(throttled)).isEqualTo("SQS answers with errors: HTTP 429 ThrottlingException: Rate exceeded");
        assertThat(SqsCheck.kind(serverError)).isEqualTo("error");
        assertThat(SqsCheck.kind(refused)).isEqualTo("unreachable");
        assertThat(SqsCheck.reason(refused)).isEqualTo("SQS not reachable: Unable to execute HTTP request: Connection refused");
    }

    private static AwsErrorDetails error(String code, String message) {
        return AwsErrorDetails.builder().errorCode(code).errorMessage(message).build();
    }
}
