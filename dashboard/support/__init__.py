"""Support staff's pages: the board, the fulfillment list, the review queue and tracking
imports."""
