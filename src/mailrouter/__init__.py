"""mailrouter: a secure message-routing gateway for CPS defence correspondence over CJSM."""
