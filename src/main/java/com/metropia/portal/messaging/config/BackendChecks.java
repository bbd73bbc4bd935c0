package com.metropia.portal.messaging.config;

import java.net.ConnectException;
import java.net.URI;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Collectors;

import com.mongodb.MongoSecurityException;
import com.mongodb.client.MongoClient;
import com.mongodb.connection.ServerDescription;
import org.apache.camel.util.ObjectHelper;
import org.bson.Document;
import software.amazon.awssdk.awscore.exception.AwsServiceException;
import software.amazon.awssdk.core.exception.ApiCallTimeoutException;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.services.sqs.SqsClient;
import software.amazon.awssdk.services.sqs.model.QueueAttributeName;
import software.amazon.awssdk.services.sqs.model.QueueDoesNotExistException;

/**
 * The start-up checks that the queue and MongoDB answer, each within a bounded time, so that a service pointed at the
 * wrong place stops instead of taking requests it cannot carry out. Each problem names the setting to look at.
 */
final class BackendChecks {

    static final String CREDENTIALS_HINT = "set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, AWS_PROFILE, a web"
                                           + " identity or an instance/task role (the AWS default chain), or"
                                           + " portal.sqs.access-key and portal.sqs.secret-key"
                                           + " (PORTAL_SQS_ACCESS_KEY, PORTAL_SQS_SECRET_KEY) for an emulator";

    /** Error codes with which AWS refuses who is calling, rather than what is asked. */
    private static final Set<String> REFUSED_CREDENTIALS = Set.of("InvalidClientTokenId", "SignatureDoesNotMatch",
            "UnrecognizedClientException", "UnrecognizedClient", "AccessDenied", "AccessDeniedException",
            "InvalidSecurity", "ExpiredToken", "ExpiredTokenException", "MissingAuthenticationToken",
            "IncompleteSignature", "AuthFailure");

    private BackendChecks() {
    }

    /**
     * The queue exists and the credentials may read it ({@code sqs:GetQueueAttributes}); credentials are looked up
     * first so that their absence is told as such.
     */
    static List<String> sqs(SqsClient sqs, String queueUrl, Duration timeout) {
        try {
            // the providers of the default chain may answer at once, or through the future
            sqs.serviceClientConfiguration().credentialsProvider().resolveIdentity()
                    .get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (SdkException | ExecutionException e) {
            return List.of("No AWS credentials for SQS: " + CREDENTIALS_HINT);
        } catch (TimeoutException e) {
            return List.of("No AWS credentials for SQS within " + timeout.toMillis() + " ms"
                           + " (portal.startup.check-timeout-ms): " + CREDENTIALS_HINT);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return List.of("The start-up was interrupted while looking up the AWS credentials");
        }
        try {
            sqs.getQueueAttributes(b -> b.queueUrl(queueUrl).attributeNames(QueueAttributeName.QUEUE_ARN)
                    .overrideConfiguration(o -> o.apiCallTimeout(timeout)));
            return List.of();
        } catch (SdkException e) {
            return List.of(describe(e, sqs, "SQS queue " + queueUrl + " (portal.sqs.queue-url, PORTAL_SQS_QUEUE_URL)",
                    timeout));
        }
    }

    /** What an SQS call at start-up failed on, with the setting that decides it. */
    static String describe(SdkException e, SqsClient sqs, String queue, Duration timeout) {
        Optional<URI> override = sqs.serviceClientConfiguration().endpointOverride();
        String endpoint = override.map(URI::toString)
                .orElse("the SQS endpoint of region " + sqs.serviceClientConfiguration().region());
        String endpointSetting = override.isPresent()
                ? "portal.sqs.endpoint (PORTAL_SQS_ENDPOINT)" : "portal.sqs.region (PORTAL_SQS_REGION)";
        if (e instanceof QueueDoesNotExistException) {
            return queue + " does not exist at " + endpoint + ": create it, or correct the setting";
        }
        if (e instanceof AwsServiceException refused) {
            String code = refused.awsErrorDetails() == null ? null : refused.awsErrorDetails().errorCode();
            String answer = refused.statusCode() + (code == null ? "" : " " + code);
            if (refused.statusCode() == 401 || refused.statusCode() == 403 || REFUSED_CREDENTIALS.contains(code)) {
                return "SQS refused the AWS credentials for " + queue + " (" + answer + "): they need"
                       + " sqs:GetQueueAttributes and sqs:SendMessage on the queue; " + CREDENTIALS_HINT;
            }
            return "SQS answered " + answer + " for " + queue + ": "
                   + (refused.awsErrorDetails() == null ? refused.getMessage() : refused.awsErrorDetails().errorMessage());
        }
        if (e instanceof ApiCallTimeoutException) {
            return "SQS at " + endpoint + " did not answer within " + timeout.toMillis()
                   + " ms (portal.startup.check-timeout-ms): check " + endpointSetting;
        }
        UnknownHostException unknownHost = ObjectHelper.getException(UnknownHostException.class, e);
        if (unknownHost != null) {
            return "The host of " + endpoint + " does not resolve (unknown host " + unknownHost.getMessage()
                   + "): check " + endpointSetting;
        }
        if (ObjectHelper.getException(ConnectException.class, e) != null) {
            return "Nothing answers at " + endpoint + " (connection refused): check " + endpointSetting;
        }
        return "SQS at " + endpoint + " cannot be reached for " + queue + ": " + e.getMessage() + " (check "
               + endpointSetting + ")";
    }

    /** MongoDB answers a {@code ping} with the URI's user and TLS settings. */
    static List<String> mongo(MongoClient mongo, String database, Duration timeout) {
        try {
            mongo.getDatabase(database).withTimeout(timeout.toMillis(), TimeUnit.MILLISECONDS)
                    .runCommand(new Document("ping", 1));
            return List.of();
        } catch (RuntimeException e) {
            String hosts = mongo.getClusterDescription().getClusterSettings().getHosts().stream()
                    .map(Object::toString).collect(Collectors.joining(","));
            String setting = "portal.mongodb.uri (PORTAL_MONGODB_URI)";
            if (ObjectHelper.getException(MongoSecurityException.class, e) != null) {
                return List.of("MongoDB at " + hosts + " refused the user of " + setting
                               + ": check the user name, password and authSource in the URI");
            }
            List<String> reasons = new ArrayList<>();
            for (ServerDescription server : mongo.getClusterDescription().getServerDescriptions()) {
                if (server.getException() != null) {
                    reasons.add(reason(server));
                }
            }
            if (reasons.isEmpty()) {
                reasons.add("no answer within " + timeout.toMillis() + " ms (portal.startup.check-timeout-ms,"
                            + " portal.mongodb.server-selection-timeout-ms)");
            }
            return List.of("MongoDB at " + hosts + " does not answer, check " + setting + ": "
                           + String.join("; ", reasons));
        }
    }

    private static String reason(ServerDescription server) {
        Throwable failure = server.getException();
        if (ObjectHelper.getException(MongoSecurityException.class, failure) != null) {
            return server.getAddress() + " refused the user of the URI";
        }
        UnknownHostException unknownHost = ObjectHelper.getException(UnknownHostException.class, failure);
        if (unknownHost != null) {
            return server.getAddress().getHost() + " does not resolve (unknown host)";
        }
        if (ObjectHelper.getException(ConnectException.class, failure) != null) {
            return "nothing listens at " + server.getAddress() + " (connection refused)";
        }
        Throwable root = failure;
        while (root.getCause() != null) {
            root = root.getCause();
        }
        return server.getAddress() + ": " + root.getClass().getSimpleName() + " " + root.getMessage();
    }
}
